import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceNowClient } from '../../../src/servicenow/index.js';
import { ServiceNowError } from '../../../src/servicenow/errors.js';
import { connection, silent } from './harness.js';

/** An "instance" that answers like a hibernating developer instance or an SSO proxy. */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/now/table/redirected')) {
      res.writeHead(302, { location: 'https://signon.example/login' }).end();
    } else {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<html><body>Your instance is hibernating</body></html>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('a ServiceNow instance that does not answer as the REST API', () => {
  const client = () =>
    createServiceNowClient(
      connection(url, { auth: { type: 'basic', username: 'u', password: 'p' }, maxRetries: 0 }),
      { log: silent },
    );

  it('turns an HTML page on /api/ into an unavailable error that says to wake the instance', async () => {
    const err = await client()
      .table.query('change_request', { limit: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceNowError);
    expect((err as ServiceNowError).kind).toBe('unavailable');
    expect((err as Error).message).toMatch(/not JSON.*wake a hibernating developer instance/);
  });

  it('turns a redirect into an unavailable error naming where it pointed', async () => {
    const err = await client()
      .table.query('redirected', { limit: 1 })
      .catch((e: unknown) => e);
    expect((err as ServiceNowError).kind).toBe('unavailable');
    expect((err as Error).message).toMatch(/redirect to https:\/\/signon\.example\/login/);
  });
});
