import { afterEach, describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { cmdbWorker } from '../../../src/workers/cmdb/index.js';
import {
  deploymentEvent,
  pipelineEvent,
  startHarness,
  until,
  type Harness,
  type HarnessOptions,
} from './incident-harness.js';

const CMDB = {
  policies: [
    {
      name: 'images',
      kind: 'image',
      match: { pipeline: 'build-image*' },
      ci: { name: '{{project}}-image' },
    },
    {
      name: 'apps',
      match: { environment: 'prod*' },
      relations: [
        {
          type: 'Runs on::Runs',
          className: 'cmdb_ci_linux_server',
          byEnvironment: { production: 'web-01' },
        },
        {
          type: 'Depends on::Used by',
          className: 'cmdb_ci_service',
          name: 'Online Banking',
          ciIs: 'child',
        },
      ],
    },
  ],
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(extra: Partial<HarnessOptions> = {}) {
  h = await startHarness({ cmdb: CMDB, worker: (deps) => cmdbWorker(deps), ...extra });
  return h;
}

const apps = (h: Harness) =>
  h.sandbox.admin.records('cmdb_ci_appl').filter((r) => r.name === 'acme/payments');
const relations = (h: Harness) => h.sandbox.admin.records('cmdb_rel_ci');
const crNotes = (h: Harness, sysId: string) =>
  h.sandbox.admin
    .records('sys_journal_field')
    .filter((j) => j.element_id === sysId && j.element === 'work_notes')
    .map((j) => j.value ?? '');

async function changeFor(h: Harness, deploymentId: string) {
  return h.servicenow
    .clientFor()
    .table.create(
      'change_request',
      { short_description: `Deploy ${deploymentId}` },
      { correlationId: `github/acme/payments/${deploymentId}` },
    );
}

describe('cmdb worker', () => {
  it('creates the application CI, then updates its version: one CI, relations created once, one note per CR', async () => {
    const h = await start();
    const cr1 = await changeFor(h, 'dep-1');
    const cr2 = await changeFor(h, 'dep-2');
    const v1 = deploymentEvent('succeeded', 'dep-1', { labels: ['version:1.4.0'] });
    await h.publish(v1);
    await until(() => h.outcomes.length === 1, 'v1');

    const [ci] = apps(h);
    expect(apps(h)).toHaveLength(1);
    expect(ci).toMatchObject({ version: '1.4.0', discovery_source: 'ServiceNow' });
    const server = h.sandbox.admin
      .records('cmdb_ci_linux_server')
      .find((s) => s.name === 'web-01')!;
    const service = h.sandbox.admin
      .records('cmdb_ci_service')
      .find((s) => s.name === 'Online Banking')!;
    const rels = relations(h);
    expect(rels).toHaveLength(2);
    expect(rels).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ parent: ci!.sys_id, child: server.sys_id }),
        expect.objectContaining({ parent: service.sys_id, child: ci!.sys_id }),
      ]),
    );
    const [note] = crNotes(h, cr1.sys_id!);
    expect(note).toContain(
      `installed acme/payments version 1.4.0 to production; CMDB cmdb_ci_appl ${ci!.sys_id} (INSERT)`,
    );

    await h.publish(v1); // redelivered
    await until(() => h.outcomes.length === 2, 'v1 again');
    expect(apps(h)).toHaveLength(1);
    expect(relations(h)).toHaveLength(2);
    expect(crNotes(h, cr1.sys_id!)).toHaveLength(1);

    await h.publish(deploymentEvent('succeeded', 'dep-2', { labels: ['version:1.5.0'] }));
    await until(() => h.outcomes.length === 3, 'v2');
    expect(apps(h)).toHaveLength(1);
    expect(apps(h)[0]).toMatchObject({ sys_id: ci!.sys_id, version: '1.5.0' });
    expect(relations(h)).toHaveLength(2);
    expect(crNotes(h, cr2.sys_id!)).toEqual([
      expect.stringContaining('version 1.5.0 to production'),
    ]);
    expect(crNotes(h, cr2.sys_id!)[0]).toContain('(UPDATE)');
    expect(crNotes(h, cr1.sys_id!)).toHaveLength(1);

    await until(() => h.audits().length === 3, 'audits');
    expect(h.audits().map((a) => a.key)).toEqual([cr1.number, cr1.number, cr2.number]);
    expect(h.audits().map((a) => (a.detail as { ci: { operation: string } }).ci.operation)).toEqual(
      ['INSERT', 'NO_CHANGE', 'UPDATE'],
    );
  });

  it('registers an image build as a Docker image CI, and ignores other pipelines', async () => {
    const h = await start();
    await h.publish(
      pipelineEvent('succeeded', 9, {
        pipeline: 'build-image',
        commit: { sha: 'feedface00000000', ref: 'refs/tags/v2.0.0' },
      }),
    );
    await h.publish(pipelineEvent('succeeded', 10, { pipeline: 'CI' }));
    await until(() => h.outcomes.length === 2, 'both');
    const images = h.sandbox.admin.records('cmdb_ci_docker_image');
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({
      name: 'acme/payments-image',
      image_id: 'acme/payments:v2.0.0',
      tag: 'v2.0.0',
    });
    expect(h.sandbox.admin.records('cmdb_ci_os_image')).toHaveLength(0);
    expect(relations(h)).toEqual([]);
  });

  it('skips deployments no policy registers', async () => {
    const h = await start();
    await h.publish(deploymentEvent('succeeded', 'dep-s', { environment: 'staging' }));
    await until(() => h.outcomes.length === 1, 'handled');
    expect(apps(h)).toHaveLength(0);
    expect(
      h.sandbox.admin.requests().filter((r) => r.path.startsWith('/api/now/identifyreconcile')),
    ).toHaveLength(0);
  });

  it('sends nothing IRE would refuse for an environment whose host is not configured, and audits why', async () => {
    const h = await start();
    await h.publish(deploymentEvent('succeeded', 'dep-h', { environment: 'prod-eu' }));
    await until(() => h.outcomes.length === 1, 'handled');
    expect(h.dlq()).toHaveLength(0);
    expect(
      h.sandbox.admin.requests().filter((r) => r.path.startsWith('/api/now/identifyreconcile')),
    ).toHaveLength(0);
    await until(() => h.audits().length === 1, 'audit');
    expect(h.audits()[0]).toMatchObject({ action: 'cmdb.application.skipped' });
    expect(h.audits()[0]!.reason).toMatch(/no host is configured for environment "prod-eu"/);
  });

  it('rides out identifyreconcile 500s and a lost work-note answer without a second CI or note', async () => {
    const h = await start();
    const cr = await changeFor(h, 'dep-f');
    h.sandbox.admin.faults.inject({
      kind: '500',
      method: 'POST',
      path: '/api/now/identifyreconcile',
      count: 3,
    });
    h.sandbox.admin.faults.inject({
      kind: 'reset-after-commit',
      method: 'PATCH',
      path: '/api/now/table/change_request/*',
      count: 1,
    });
    await h.publish(deploymentEvent('succeeded', 'dep-f'));
    await until(() => h.outcomes.length === 1, 'handled');
    expect(h.dlq()).toHaveLength(0);
    expect(apps(h)).toHaveLength(1);
    expect(apps(h)[0]!.version).toBe('0123456');
    expect(relations(h)).toHaveLength(2);
    expect(crNotes(h, cr.sys_id!)).toHaveLength(1);
    expect(h.sandbox.admin.requests().filter((r) => r.fault)).toHaveLength(4);
  });

  it('dead-letters at once what identifyreconcile refuses, with its reason', async () => {
    const h = await start({
      sandbox: { identificationRules: { cmdb_ci_appl: ['name', 'u_repository'] } },
    });
    await h.publish(deploymentEvent('succeeded', 'dep-x'));
    await until(() => h.dlq().length === 1, 'dead letter');
    const [dead] = h.dlq();
    expect(dead!.headers['changegate-worker']).toBe('cmdb');
    expect(dead!.headers['changegate-attempts']).toBe('1');
    expect(dead!.headers['changegate-error']).toContain('MISSING_MATCHING_ATTRIBUTES');
  });

  it('dead-letters schema-invalid data with the reason', async () => {
    const h = await start({ maxAttempts: 2 });
    const bad = deploymentEvent('succeeded', 'dep-y');
    await h.bus.publish([
      toRecord(h.config.kafka.topics.cicd, {
        ...bad,
        data: { ...(bad.data as object), environment: 7 },
      }),
    ]);
    await until(() => h.dlq().length === 1, 'dead letter');
    expect(h.dlq()[0]!.headers['changegate-error']).toMatch(
      /deployment\.succeeded .*: environment: /,
    );
    expect(apps(h)).toHaveLength(0);
  });
});
