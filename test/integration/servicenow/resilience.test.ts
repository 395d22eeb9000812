import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceNowError } from '../../../src/servicenow/index.js';
import { client, requestsTo, startSandbox, type Sandbox } from './harness.js';

const TABLE_PATH = '/api/now/table/change_request';

describe('ServiceNow client retries', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.admin.reset());

  it('waits as long as Retry-After says after a 429', async () => {
    const sn = client(sandbox.url);
    await sn.table.query('change_request', { limit: 1 }); // token first, so only the wait is timed
    sandbox.admin.faults.inject({
      kind: '429',
      method: 'GET',
      path: TABLE_PATH,
      count: 1,
      retryAfterSeconds: 1,
    });
    const started = performance.now();
    await sn.table.query('change_request', { limit: 1 });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(2000);
    expect(requestsTo(sandbox, TABLE_PATH).map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it('fails fast with rate_limited when Retry-After is beyond maxRetryAfterMs', async () => {
    const sn = client(sandbox.url, {
      retry: { baseDelayMs: 10, maxDelayMs: 100, maxRetryAfterMs: 500 },
    });
    sandbox.admin.faults.inject({ kind: '429', path: TABLE_PATH, count: 1, retryAfterSeconds: 30 });
    const err = (await sn.table
      .query('change_request')
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('rate_limited');
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.message).toContain('sys_rate_limit_rules');
  });

  it('retries through a burst of 500s and then succeeds', async () => {
    const sn = client(sandbox.url);
    sandbox.admin.faults.inject({ kind: '500', path: TABLE_PATH, count: 3 });
    await sn.table.query('change_request', { limit: 1 });
    expect(requestsTo(sandbox, TABLE_PATH).map((r) => r.status)).toEqual([500, 500, 500, 200]);
  });

  it('retries a 503 answered with an HTML page', async () => {
    const sn = client(sandbox.url);
    sandbox.admin.faults.inject({ kind: '503', path: TABLE_PATH, count: 1, retryAfterSeconds: 0 });
    await sn.table.query('change_request', { limit: 1 });
    expect(requestsTo(sandbox, TABLE_PATH).map((r) => r.status)).toEqual([503, 200]);
  });

  it('retries after a timeout and then succeeds', async () => {
    const sn = client(sandbox.url, { timeoutMs: 300 });
    await sn.table.query('change_request', { limit: 1 });
    sandbox.admin.faults.inject({ kind: 'timeout', method: 'GET', path: TABLE_PATH, count: 1 });
    const started = performance.now();
    await sn.table.query('change_request', { limit: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(requestsTo(sandbox, TABLE_PATH)).toHaveLength(3);
  });

  it('gives up after maxRetries with a retryable unavailable error', async () => {
    const sn = client(sandbox.url, { maxRetries: 2 });
    sandbox.admin.faults.inject({ kind: '500', path: TABLE_PATH });
    const err = (await sn.table
      .query('change_request')
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err).toBeInstanceOf(ServiceNowError);
    expect(err.kind).toBe('unavailable');
    expect(err.retryable).toBe(true);
    expect(err.upstreamStatus).toBe(500);
    expect(requestsTo(sandbox, TABLE_PATH)).toHaveLength(3);
  });

  it('creates exactly one change when the connection resets after the commit', async () => {
    const sn = client(sandbox.url);
    const path = '/api/sn_chg_rest/change/normal';
    sandbox.admin.faults.inject({ kind: 'reset-after-commit', method: 'POST', path, count: 1 });
    const change = await sn.change.createNormal(
      { short_description: 'Deploy api 1.4.2' },
      { correlationId: 'delivery-reset-1' },
    );
    const stored = sandbox.admin
      .records('change_request')
      .filter((r) => r.correlation_id === 'delivery-reset-1');
    expect(stored).toHaveLength(1);
    expect(change.sys_id).toBe(stored[0]?.sys_id);
    expect(requestsTo(sandbox, path, 'POST')).toHaveLength(1);
  });

  it('posts again when the lookup proves a failed create did not commit', async () => {
    const sn = client(sandbox.url);
    const path = '/api/sn_chg_rest/change/normal';
    sandbox.admin.faults.inject({ kind: '500', method: 'POST', path, count: 1 });
    await sn.change.createNormal(
      { short_description: 'Deploy web 2.0' },
      { correlationId: 'delivery-500-1' },
    );
    expect(
      sandbox.admin.records('change_request').filter((r) => r.correlation_id === 'delivery-500-1'),
    ).toHaveLength(1);
    expect(requestsTo(sandbox, path, 'POST').map((r) => r.status)).toEqual([500, 200]);
  });

  it('never re-posts a create without a correlation id once it may have reached the instance', async () => {
    const sn = client(sandbox.url);
    const path = '/api/now/table/incident';
    sandbox.admin.faults.inject({ kind: 'reset-after-commit', method: 'POST', path, count: 1 });
    const err = (await sn.table
      .create('incident', { short_description: 'Deploy failed' })
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('unavailable');
    expect(err.maybeCommitted).toBe(true);
    expect(requestsTo(sandbox, path, 'POST')).toHaveLength(1);
    expect(
      sandbox.admin.records('incident').filter((r) => r.short_description === 'Deploy failed'),
    ).toHaveLength(1);
  });

  it('retries a POST refused with 429 because it never ran', async () => {
    const sn = client(sandbox.url);
    const path = '/api/now/table/incident';
    sandbox.admin.faults.inject({
      kind: '429',
      method: 'POST',
      path,
      count: 1,
      retryAfterSeconds: 0,
    });
    await sn.table.create('incident', { short_description: 'Rate limited once' });
    expect(requestsTo(sandbox, path, 'POST').map((r) => r.status)).toEqual([429, 201]);
  });

  it('reports every HTTP attempt to the metrics hook with a templated route', async () => {
    const calls: Parameters<NonNullable<Parameters<typeof client>[2]>['push']>[0][] = [];
    const sn = client(sandbox.url, {}, calls);
    sandbox.admin.faults.inject({ kind: '500', path: TABLE_PATH, count: 1 });
    const [first] = await sn.table.query('change_request', { limit: 1 });
    if (first) await sn.table.get('change_request', first.sys_id ?? '');
    expect(calls.map((c) => `${c.method} ${c.route} ${c.status}`)).toEqual([
      'POST /oauth_token.do 200',
      'GET /api/now/table/{table} 500',
      'GET /api/now/table/{table} 200',
      ...(first ? ['GET /api/now/table/{table}/{sys_id} 200'] : []),
    ]);
    expect(calls.every((c) => c.instance === 'sandbox' && c.durationMs >= 0)).toBe(true);
  });
});
