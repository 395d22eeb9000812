import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedFetch } from '../../../src/ci/pinned-fetch.js';

let server: Server;
let port: number;
const seen: { method?: string; host?: string; body: string }[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, host: req.headers.host!, body });
      if (req.url === '/slow') return; // never answers
      if (req.url === '/moved') return res.writeHead(302, { location: 'http://elsewhere/' }).end();
      if (req.url === '/empty') return res.writeHead(204).end();
      res
        .writeHead(201, { 'content-type': 'application/json', 'x-two': ['a', 'b'] })
        .end('{"ok":1}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const to = { address: '127.0.0.1', family: 4 as const };

describe('pinnedFetch', () => {
  it('connects to the given address whatever the name, and returns status, headers and body', async () => {
    const res = await pinnedFetch(
      `http://no-such-name.invalid:${port}/x`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
      to,
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('x-two')).toBe('a, b');
    expect(await res.json()).toEqual({ ok: 1 });
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      host: `no-such-name.invalid:${port}`,
      body: '{"a":1}',
    });
  });

  it('returns a redirect instead of following it, and a 204 with no body', async () => {
    const moved = await pinnedFetch(`http://ci.invalid:${port}/moved`, {}, to);
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('http://elsewhere/');
    const empty = await pinnedFetch(`http://ci.invalid:${port}/empty`, {}, to);
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('rejects with the signal’s TimeoutError when the callback does not answer in time', async () => {
    await expect(
      pinnedFetch(`http://ci.invalid:${port}/slow`, { signal: AbortSignal.timeout(100) }, to),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
