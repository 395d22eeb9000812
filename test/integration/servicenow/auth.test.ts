import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ServiceNowError } from '../../../src/servicenow/index.js';
import { OAUTH, USER, client, requestsTo, startSandbox, type Sandbox } from './harness.js';

describe('ServiceNow client authentication', () => {
  let sandbox: Sandbox;
  let offsetMs = 0;
  beforeAll(async () => {
    // The sandbox clock can be moved forward to expire tokens behind the client's back.
    sandbox = await startSandbox({ clock: () => new Date(Date.now() + offsetMs) });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    offsetMs = 0;
    sandbox.admin.reset();
  });

  it('authenticates with the client_credentials grant and reuses the token', async () => {
    const sn = client(sandbox.url);
    for (let i = 0; i < 3; i++) await sn.table.query('change_request', { limit: 1 });
    expect(requestsTo(sandbox, '/oauth_token.do')).toHaveLength(1);
    expect(requestsTo(sandbox, '/api/now/table/change_request').map((r) => r.user)).toEqual([
      USER.username,
      USER.username,
      USER.username,
    ]);
  });

  it('authenticates with the password grant as the configured user', async () => {
    const sn = client(sandbox.url, {
      auth: { type: 'oauth', ...OAUTH, grant: 'password', ...USER },
    });
    const users = await sn.table.query('sys_user', { query: `user_name=${USER.username}` });
    expect(users[0]?.user_name).toBe(USER.username);
    expect(requestsTo(sandbox, '/oauth_token.do')).toHaveLength(1);
  });

  it('authenticates with basic auth without asking for a token', async () => {
    const sn = client(sandbox.url, { auth: { type: 'basic', ...USER } });
    await sn.table.query('change_request', { limit: 1 });
    expect(requestsTo(sandbox, '/oauth_token.do')).toHaveLength(0);
    expect(requestsTo(sandbox, '/api/now/table/change_request')[0]?.status).toBe(200);
  });

  it('renews a short-lived token ahead of expiry without a single 401', async () => {
    const short = await startSandbox({ oauth: { ...OAUTH, tokenTtlSeconds: 1 } });
    try {
      const sn = client(short.url);
      await sn.table.query('change_request', { limit: 1 });
      await new Promise((r) => setTimeout(r, 1100));
      await sn.table.query('change_request', { limit: 1 });
      expect(requestsTo(short, '/oauth_token.do')).toHaveLength(2);
      expect(short.admin.requests().filter((r) => r.status === 401)).toHaveLength(0);
    } finally {
      await short.close();
    }
  });

  it('uses the refresh_token grant to renew a password-grant token', async () => {
    const short = await startSandbox({ oauth: { ...OAUTH, tokenTtlSeconds: 1 } });
    try {
      const sn = client(short.url, {
        auth: { type: 'oauth', ...OAUTH, grant: 'password', ...USER },
      });
      await sn.table.query('change_request', { limit: 1 });
      await new Promise((r) => setTimeout(r, 1100));
      await sn.table.query('change_request', { limit: 1 });
      expect(requestsTo(short, '/oauth_token.do').map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await short.close();
    }
  });

  it('renews the token once and retries when the instance answers 401', async () => {
    const sn = client(sandbox.url);
    await sn.table.query('change_request', { limit: 1 });
    offsetMs = 2 * 60 * 60 * 1000; // the instance now considers the cached token expired
    const rows = await sn.table.query('change_request', { limit: 1 });
    expect(Array.isArray(rows)).toBe(true);
    expect(sandbox.admin.requests().map((r) => `${r.path} ${r.status}`)).toEqual([
      '/oauth_token.do 200',
      '/api/now/table/change_request 200',
      '/api/now/table/change_request 401',
      '/oauth_token.do 200',
      '/api/now/table/change_request 200',
    ]);
  });

  it('sends exactly one token request for 20 parallel calls', async () => {
    const sn = client(sandbox.url);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sn.table.query('change_request', { limit: 1 })),
    );
    expect(results).toHaveLength(20);
    expect(requestsTo(sandbox, '/oauth_token.do')).toHaveLength(1);
    expect(requestsTo(sandbox, '/api/now/table/change_request')).toHaveLength(20);
  });

  it('reports a wrong client secret as an auth error that names the fix', async () => {
    const sn = client(sandbox.url, {
      auth: { type: 'oauth', clientId: OAUTH.clientId, clientSecret: 'wrong' },
    });
    const err = await sn.table.query('change_request').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceNowError);
    const e = err as ServiceNowError;
    expect(e.kind).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('sandbox (127.0.0.1');
    expect(e.message).toContain('POST /oauth_token.do');
    expect(e.message).toContain('clientId/clientSecret');
    expect(e.message).toContain('glide.oauth.inbound.client.credential.grant_type.enabled');
    expect(requestsTo(sandbox, '/oauth_token.do')).toHaveLength(1);
  });

  it('reports wrong basic credentials as an auth error without retrying', async () => {
    const sn = client(sandbox.url, {
      auth: { type: 'basic', username: USER.username, password: 'nope' },
    });
    const err = (await sn.table
      .query('change_request')
      .catch((e: unknown) => e)) as ServiceNowError;
    expect(err.kind).toBe('auth');
    expect(err.upstreamStatus).toBe(401);
    expect(err.message).toMatch(/check the username\/password/);
    expect(requestsTo(sandbox, '/api/now/table/change_request')).toHaveLength(1);
  });
});
