import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceNowError } from '../../../src/servicenow/index.js';
import { USER, client, startSandbox, type Sandbox } from './harness.js';

const VIEWER = { username: 'viewer', password: 'viewer-pw', roles: [] as string[] };

describe('ServiceNow client typed errors', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      users: [{ ...USER, roles: ['itil', 'change_manager'] }, VIEWER],
    });
  });
  afterAll(() => sandbox.close());

  const viewer = () =>
    client(sandbox.url, {
      auth: { type: 'basic', username: VIEWER.username, password: VIEWER.password },
    });

  it('reports a 403 for a user lacking itil as forbidden, naming the instance, table and role', async () => {
    const err = await viewer()
      .table.query('change_request', { limit: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceNowError);
    const e = err as ServiceNowError;
    expect(e.kind).toBe('forbidden');
    expect(e.table).toBe('change_request');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('sandbox (127.0.0.1');
    expect(e.message).toContain('GET /api/now/table/change_request');
    expect(e.message).toMatch(/lacks the itil role/);
  });

  it('reports a 403 from sn_chg_rest naming the change roles', async () => {
    const err = (await viewer()
      .change.createNormal({ short_description: 'x' })
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('forbidden');
    expect(err.message).toContain('POST /api/sn_chg_rest/change/normal');
    expect(err.message).toMatch(/itil or change_manager/);
  });

  it('reports an unknown sys_id as not_found naming the table', async () => {
    const err = (await client(sandbox.url, { auth: { type: 'basic', ...USER } })
      .table.get('change_request', '0123456789abcdef0123456789abcdef')
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('not_found');
    expect(err.upstreamStatus).toBe(404);
    expect(err.message).toContain('no such record in change_request');
  });

  it('reports an unknown API path as a missing resource', async () => {
    const sn = client(sandbox.url, { auth: { type: 'basic', ...USER } });
    const err = (await sn
      .request({ method: 'GET', path: '/api/x_unknown/thing', route: '/api/x_unknown/thing' })
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('invalid');
    expect(err.snMessage).toBe('Requested URI does not represent any resource');
  });
});
