import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/servicenow/index.js';
import { ServiceNowSchema } from '../../../src/config/servicenow.js';
import { BUSINESS_RULES } from '../../../src/servicenow/doctor-features.js';
import { OAUTH, USER, client, startSandbox, type Sandbox } from './harness.js';

/** A port nothing listens on: bind an ephemeral one, then release it. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function capture() {
  let text = '';
  return { out: { write: (s: string) => (text += s) }, text: () => text };
}

function config(connection: Record<string, unknown>, secret = true) {
  return {
    servicenow: ServiceNowSchema.parse({ connections: { main: connection } }),
    sources: {
      generic: {},
      ...(secret ? { servicenow: { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } } : {}),
    },
  };
}

describe('changegate doctor for ServiceNow', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({
      // The install kit's journal read ACL (step 5c): without it the journal answers no rows.
      readAcls: { sys_journal_field: ['itil'] },
      // System tables every real instance has and the base sandbox dictionary leaves out:
      // business rules (sys_script) and the dictionary itself (sys_dictionary).
      dictionary: {
        sys_script: {
          source: 'base system table Business Rule [sys_script]; columns as the form shows them',
          columns: {
            name: 'string',
            collection: 'table_name',
            when: 'string',
            active: { type: 'boolean', default: 'true' },
            condition: 'string',
          },
        },
        sys_dictionary: {
          source: 'base system table Dictionary Entry [sys_dictionary]',
          columns: { name: 'table_name', element: 'string', internal_type: 'string' },
        },
      },
      users: [
        { ...USER, roles: ['itil', 'change_manager'] },
        { username: 'viewer', password: 'pw', roles: [] },
      ],
    });
  });
  afterAll(() => sandbox.close());

  /**
   * What an instance with the install kit has: the two business rules (sys_script), and a
   * readable journal (a work note exists and the ACL lets the integration read it).
   */
  async function installKit() {
    const sn = client(sandbox.url);
    for (const [table, name] of Object.entries(BUSINESS_RULES)) {
      await sn.table.create('sys_script', {
        name,
        collection: table,
        when: 'async',
        active: 'true',
        condition:
          "!current.correlation_id.nil() && (current.operation() == 'insert' || current.correlation_id.changes() || current.state.changes())",
      });
    }
    const cr = await sn.change.createNormal({ short_description: 'doctor' });
    await sn.table.addWorkNote('change_request', cr.sys_id!, 'a note');
  }

  it('reports each feature changegate relies on as missing on an instance without the kit', async () => {
    const c = capture();
    await runDoctor({
      config: config({ url: sandbox.url, auth: { type: 'basic', ...USER } }),
      out: c.out,
    });
    expect(c.text()).toMatch(/feature: approvals readable\s+PASS/);
    expect(c.text()).toMatch(/feature: journal readable\s+FAIL/);
    expect(c.text()).toMatch(/feature: business rule on change_request\s+(FAIL|WARN)/);
    expect(c.text()).toMatch(/feature: incident field u_changegate_failures\s+(WARN|PASS)/);
    // The sandbox keeps roles on sys_user, not in sys_user_has_role: the check can only warn.
    expect(c.text()).toMatch(/feature: roles\s+(PASS|WARN)/);
  });

  it('passes every check against a correctly configured sandbox', async () => {
    await installKit();
    const c = capture();
    const code = await runDoctor({
      config: config({ url: sandbox.url, auth: { type: 'oauth', ...OAUTH } }),
      out: c.out,
    });
    expect(c.text()).not.toContain('FAIL');
    expect(c.text()).toMatch(/main: reachability\s+PASS/);
    expect(c.text()).toMatch(/main: authentication \(oauth:client_credentials\)\s+PASS/);
    expect(c.text()).toMatch(/main: change API \(sn_chg_rest\)\s+PASS/);
    expect(code).toBe(0);
  });

  it('fails on a wrong client secret and names the fix', async () => {
    const c = capture();
    const code = await runDoctor({
      config: config({
        url: sandbox.url,
        auth: { type: 'oauth', clientId: OAUTH.clientId, clientSecret: 'wrong' },
      }),
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toMatch(/authentication \(oauth:client_credentials\)\s+FAIL\s+HTTP 401/);
    expect(c.text()).toContain('check clientId/clientSecret');
    expect(c.text()).toContain('glide.oauth.inbound.client.credential.grant_type.enabled=true');
  });

  it('fails on an unreachable URL and says it is the TCP connection', async () => {
    const c = capture();
    const code = await runDoctor({
      config: config({ url: 'http://127.0.0.1:1', auth: { type: 'basic', ...USER } }),
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toMatch(/reachability\s+FAIL\s+TCP: TCP connect to 127\.0\.0\.1:1 refused/);
    expect(c.text()).toContain('fix: nothing accepted the TCP connection');
    expect(c.text()).toMatch(/authentication, roles\s+WARN\s+skipped/);
  });

  it('fails on a closed port with ECONNREFUSED', async () => {
    const port = await closedPort();
    const c = capture();
    const code = await runDoctor({
      config: config({ url: `http://127.0.0.1:${port}`, auth: { type: 'basic', ...USER } }),
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toMatch(/reachability\s+FAIL\s+TCP: .*\(ECONNREFUSED\)/);
  });

  it('fails on a host name that does not resolve and says it is DNS', async () => {
    const c = capture();
    const code = await runDoctor({
      config: config({
        url: 'https://changegate-doctor.invalid',
        auth: { type: 'basic', ...USER },
      }),
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toMatch(/reachability\s+FAIL\s+DNS: /);
    expect(c.text()).toContain('the host name does not resolve');
  });

  it('fails the role checks for a user without itil and names the role', async () => {
    const c = capture();
    const code = await runDoctor({
      config: config({
        url: sandbox.url,
        auth: { type: 'basic', username: 'viewer', password: 'pw' },
      }),
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toMatch(/authentication \(basic\)\s+PASS/);
    expect(c.text()).toMatch(/read change_request\s+FAIL\s+HTTP 403/);
    expect(c.text()).toContain('lacks the itil role');
    expect(c.text()).toMatch(/sn_chg_rest\)\s+FAIL/);
  });

  it('warns when the outbound-message secret is missing', async () => {
    const c = capture();
    const code = await runDoctor({
      config: config({ url: sandbox.url, auth: { type: 'oauth', ...OAUTH } }, false),
      out: c.out,
    });
    expect(code).toBe(0);
    expect(c.text()).toMatch(/outbound-message secret\s+WARN/);
    expect(c.text()).toContain('CHANGEGATE_SERVICENOW_SECRET');
  });

  it('fails when no connection is configured', async () => {
    const c = capture();
    const code = await runDoctor({
      config: { servicenow: ServiceNowSchema.parse(undefined), sources: { generic: {} } },
      out: c.out,
    });
    expect(code).toBe(1);
    expect(c.text()).toContain('CHANGEGATE_SERVICENOW_URL');
  });
});
