import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startSandbox, type Sandbox } from './harness.js';

describe('ServiceNow client APIs against the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('creates a normal change through sn_chg_rest and returns a flat record', async () => {
    const sn = client(sandbox.url);
    const change = await sn.change.createNormal(
      { short_description: 'Deploy api 1.5.0', description: 'from pipeline 42' },
      { correlationId: 'delivery-api-1' },
    );
    expect(change.sys_id).toMatch(/^[0-9a-f]{32}$/);
    expect(change.number).toMatch(/^CHG\d+/);
    expect(typeof change.state).toBe('string');
    expect(change.type).toBe('normal');
    expect(change.correlation_id).toBe('delivery-api-1');

    const read = await sn.change.get(change.sys_id!);
    expect(read.number).toBe(change.number);
    const display = await sn.change.getDisplay(change.sys_id!);
    expect(display.number).toBe(change.number);
  });

  it('creates a standard change from a template', async () => {
    const sn = client(sandbox.url);
    const template = sandbox.admin.records('std_change_record_producer')[0]!;
    const change = await sn.change.createStandard(template.sys_id!, {
      short_description: 'Release 7',
    });
    expect(change.type).toBe('standard');
  });

  it('patches a change, appends a work note and finds it by correlation id', async () => {
    const sn = client(sandbox.url);
    const change = await sn.change.createEmergency(
      { short_description: 'Hotfix' },
      { correlationId: 'hotfix-9' },
    );
    const patched = await sn.change.patch(change.sys_id!, {
      description: 'rollback plan: redeploy 1.4',
    });
    expect(patched.description).toBe('rollback plan: redeploy 1.4');
    await sn.table.addWorkNote('change_request', change.sys_id!, 'pipeline started');
    const found = await sn.table.findByCorrelationId('change_request', 'hotfix-9');
    expect(found?.sys_id).toBe(change.sys_id);
    expect(await sn.table.findByCorrelationId('change_request', 'nope')).toBeUndefined();
  });

  it('queries a table with an encoded query, fields and a limit', async () => {
    const sn = client(sandbox.url);
    const rows = await sn.table.query('change_request', {
      query: 'type=emergency^ORDERBYDESCsys_created_on',
      fields: ['sys_id', 'number', 'type'],
      limit: 5,
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.type === 'emergency')).toBe(true);
  });

  it('uploads an attachment with its content type and lists it', async () => {
    const sn = client(sandbox.url);
    const change = await sn.change.createNormal({ short_description: 'With log' });
    const uploaded = await sn.attachment.upload({
      table: 'change_request',
      sysId: change.sys_id!,
      fileName: 'deploy.log',
      contentType: 'text/plain',
      data: 'step 1 ok\nstep 2 ok\n',
    });
    expect(uploaded.sys_id).toBeTruthy();
    expect(uploaded.file_name).toBe('deploy.log');
    const listed = await sn.attachment.list('change_request', change.sys_id!);
    expect(listed.map((a) => a.file_name)).toContain('deploy.log');
  });

  it('reconciles CIs and their relation through identifyreconcile', async () => {
    const sn = client(sandbox.url);
    // cmdb_ci_appl is a dependent class: identified by its running process on the host it runs on.
    const app = {
      className: 'cmdb_ci_appl',
      values: {
        name: 'payments-api',
        version: '2.0',
        running_process_command: 'payments-api',
        running_process_key_parameters: 'environment=production',
      },
    };
    const payload = {
      items: [app, { className: 'cmdb_ci_linux_server', values: { name: 'web-01' } }],
      relations: [{ parent: 0, child: 1, type: 'Runs on::Runs' }],
    };
    const first = await sn.cmdb.identifyReconcile(payload);
    expect(first.items).toHaveLength(2);
    expect(first.items[0]?.sysId).toBeTruthy();
    expect(first.items[0]?.operation).toBe('INSERT');
    const again = await sn.cmdb.identifyReconcile(payload);
    expect(again.items[0]?.sysId).toBe(first.items[0]?.sysId);

    // Without the host, the base rule cannot identify it: refused with ServiceNow's error.
    const alone = await sn.cmdb.identifyReconcile({ items: [app] });
    expect(alone.items[0]?.sysId).toBeUndefined();
    expect(alone.items[0]?.errors.map((e) => e.error)).toEqual(['MISSING_DEPENDENCY']);
  });
});
