import { afterEach, describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { incidentWorker } from '../../../src/workers/incident/index.js';
import {
  deploymentEvent,
  pipelineEvent,
  startHarness,
  until,
  type Harness,
  type HarnessOptions,
} from './incident-harness.js';

const FP = 'github/acme/payments/CI/pipeline';
const POLICIES = {
  policies: [
    {
      name: 'ci',
      match: { project: 'acme/*' },
      on: ['pipeline.failed', 'deployment.failed'],
      assignmentGroup: 'Application Development',
      cmdbCi: '{{project}}',
    },
  ],
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(extra: Partial<HarnessOptions> = {}, offset = { ms: 0 }) {
  h = await startHarness({
    incidents: POLICIES,
    worker: (deps) => incidentWorker({ ...deps, clock: () => Date.now() + offset.ms }),
    ...extra,
  });
  return h;
}

const incidents = (h: Harness) => h.sandbox.admin.records('incident');
const notesOf = (h: Harness, sysId: string) =>
  h.sandbox.admin
    .records('sys_journal_field')
    .filter((j) => j.element_id === sysId && j.element === 'work_notes')
    .map((j) => j.value ?? '');

/** The failure count the notes on an incident state: "recorded (1 time)", "failed again (N times)". */
const countOf = (h: Harness, sysId: string) =>
  Math.max(0, ...notesOf(h, sysId).map((n) => Number(/\((\d+) times?\)/.exec(n)?.[1] ?? 0)));

/** An instance where the install kit's optional count column exists. */
const WITH_COUNT_FIELD = {
  sandbox: { dictionary: { incident: { columns: { u_changegate_failures: 'integer' } } } },
};

describe('incident worker', () => {
  it('files ONE incident for a burst of 50 failures of one pipeline and counts them in work notes', async () => {
    const h = await start(WITH_COUNT_FIELD);
    await h.publish(...Array.from({ length: 50 }, (_, i) => pipelineEvent('failed', 100 + i)));
    await until(() => h.outcomes.length === 50, '50 events handled');

    const all = incidents(h);
    expect(all).toHaveLength(1);
    const inc = all[0]!;
    expect(inc).toMatchObject({
      correlation_id: FP,
      u_changegate_failures: '50',
      state: '1',
      impact: '2',
      urgency: '2',
      category: 'software',
      assignment_group: 'Application Development',
      cmdb_ci: 'acme/payments',
    });
    expect(countOf(h, inc.sys_id!)).toBe(50);
    expect(inc.short_description).toBe('Pipeline "CI" of acme/payments failed on main');
    expect(inc.description).toContain('Run: https://github.com/acme/payments/actions/runs/100');
    expect(inc.description).toContain('- unit-tests');
    const notes = notesOf(h, inc.sys_id!);
    expect(notes.filter((n) => n.startsWith('changegate: failed again'))).toHaveLength(49);
    expect(notes.some((n) => n.startsWith('changegate: failed again (50 times).'))).toBe(true);
    expect(h.dlq()).toHaveLength(0);
    await until(() => h.audits().length === 50, '50 audit records');
    const actions = h.audits().map((a) => a.action);
    expect(actions.filter((a) => a === 'incident.created')).toHaveLength(1);
    expect(actions.filter((a) => a === 'incident.repeated')).toHaveLength(49);
    expect(h.audits().every((a) => a.key === inc.number)).toBe(true);
  });

  it('counts a redelivered event once, the creating one included', async () => {
    const h = await start();
    const first = pipelineEvent('failed', 1, {}, 'evt-first');
    const second = pipelineEvent('failed', 2, {}, 'evt-second');
    await h.publish(first);
    await until(() => h.outcomes.length === 1, 'first');
    await h.publish(first, second);
    await until(() => h.outcomes.length === 3, 'redelivery and second');
    await h.publish(second);
    await until(() => h.outcomes.length === 4, 'second redelivered');

    const [inc] = incidents(h);
    expect(incidents(h)).toHaveLength(1);
    expect(countOf(h, inc!.sys_id!)).toBe(2);
    expect(notesOf(h, inc!.sys_id!)).toHaveLength(2);
    await until(() => h.audits().length === 4, 'audits');
    expect(h.audits().filter((a) => a.action === 'incident.redelivered')).toHaveLength(2);
  });

  it('resolves the open incident on the next success, and a later failure opens a new one', async () => {
    const h = await start();
    await h.publish(pipelineEvent('failed', 1));
    await until(() => h.outcomes.length === 1, 'failure');
    await h.publish(pipelineEvent('succeeded', 2));
    await until(() => h.outcomes.length === 2, 'success');
    const [resolved] = incidents(h);
    expect(resolved).toMatchObject({ state: '6', close_code: 'Solution provided' });
    expect(resolved!.close_notes).toContain('pipeline of acme/payments CI succeeded again');

    await h.publish(pipelineEvent('succeeded', 3));
    await h.publish(pipelineEvent('failed', 4));
    await until(() => h.outcomes.length === 4, 'second episode');
    const all = incidents(h);
    expect(all).toHaveLength(2);
    expect(all.map((i) => i.state).sort()).toEqual(['1', '6']);
    expect(countOf(h, all.find((i) => i.state === '1')!.sys_id!)).toBe(1);
    await until(() => h.audits().some((a) => a.action === 'incident.resolved'), 'audit');
  });

  it('leaves the incident open on success when the policy does not resolve', async () => {
    const h = await start({
      incidents: {
        policies: [{ name: 'ci', match: {}, on: ['pipeline.failed'], resolveOnSuccess: false }],
      },
    });
    await h.publish(pipelineEvent('failed', 1));
    await h.publish(pipelineEvent('succeeded', 2));
    await until(() => h.outcomes.length === 2, 'both');
    expect(incidents(h).map((i) => i.state)).toEqual(['1']);
  });

  it('files a new incident when the open one is older than the repeat window', async () => {
    const offset = { ms: 0 };
    const h = await start({}, offset);
    await h.publish(pipelineEvent('failed', 1));
    await until(() => h.outcomes.length === 1, 'first');
    offset.ms = 25 * 60 * 60 * 1000;
    await h.publish(pipelineEvent('failed', 2));
    await until(() => h.outcomes.length === 2, 'second');
    expect(incidents(h)).toHaveLength(2);
    expect(incidents(h).map((i) => countOf(h, i.sys_id!))).toEqual([1, 1]);
  });

  it('links the change request of the failed deployment and resolves on its next success', async () => {
    const h = await start();
    const client = h.servicenow.clientFor();
    const cr = await client.table.create(
      'change_request',
      { short_description: 'Deploy acme/payments' },
      { correlationId: 'github/acme/payments/dep-7' },
    );
    await h.publish(deploymentEvent('failed', 'dep-7'));
    await until(() => h.outcomes.length === 1, 'failure');
    const [inc] = incidents(h);
    expect(inc).toMatchObject({
      correlation_id: 'github/acme/payments/production/deployment',
      caused_by: cr.sys_id,
      short_description: 'The deployment of acme/payments to production failed on main',
    });
    await until(() => h.audits().length === 1, 'audit');
    expect(h.audits()[0]).toMatchObject({
      action: 'incident.created',
      key: inc!.number,
      detail: { change: cr.number },
    });

    await h.publish(deploymentEvent('succeeded', 'dep-8'));
    await until(() => h.outcomes.length === 2, 'success');
    expect(incidents(h)[0]!.state).toBe('6');
  });

  it('ignores failures no policy files incidents for', async () => {
    const h = await start({
      incidents: { policies: [{ name: 'd', match: {}, on: ['deployment.failed'] }] },
    });
    await h.publish(pipelineEvent('failed', 1));
    await until(() => h.outcomes.length === 1, 'handled');
    expect(incidents(h)).toHaveLength(0);
  });

  it('rides out ServiceNow 500s, 429s and lost answers without losing or duplicating anything', async () => {
    const h = await start();
    const faults = h.sandbox.admin.faults;
    faults.inject({ kind: '500', method: 'POST', path: '/api/now/table/incident', count: 2 });
    faults.inject({
      kind: 'reset-after-commit',
      method: 'POST',
      path: '/api/now/table/incident',
      count: 1,
    });
    faults.inject({
      kind: '429',
      method: 'PATCH',
      path: '/api/now/table/incident/*',
      count: 3,
      retryAfterSeconds: 0,
    });
    faults.inject({ kind: '500', method: 'PATCH', path: '/api/now/table/incident/*', count: 2 });
    faults.inject({
      kind: 'reset-after-commit',
      method: 'PATCH',
      path: '/api/now/table/incident/*',
      count: 2,
    });
    faults.inject({
      kind: '503',
      method: 'GET',
      path: '/api/now/table/sys_journal_field',
      count: 2,
      retryAfterSeconds: 0,
    });
    faults.inject({
      kind: '500',
      method: 'GET',
      path: '/api/now/table/incident',
      probability: 0.2,
    });

    await h.publish(...Array.from({ length: 12 }, (_, i) => pipelineEvent('failed', 200 + i)));
    await until(() => h.outcomes.length === 12, '12 events handled', 30_000);
    faults.clear();

    expect(h.dlq()).toHaveLength(0);
    const all = incidents(h);
    expect(all).toHaveLength(1);
    expect(countOf(h, all[0]!.sys_id!)).toBe(12);
    const notes = notesOf(h, all[0]!.sys_id!);
    expect(notes).toHaveLength(12);
    expect(new Set(notes).size).toBe(12);
    const fired = h.sandbox.admin.requests().filter((r) => r.fault);
    expect(fired.filter((r) => r.fault === 'reset-after-commit')).toHaveLength(3);
  });

  it('dead-letters schema-invalid data with the reason', async () => {
    const h = await start({ maxAttempts: 2 });
    const bad = pipelineEvent('failed', 1);
    await h.bus.publish([
      toRecord(h.config.kafka.topics.cicd, {
        ...bad,
        data: { ...(bad.data as object), pipeline: '', run: 'nope' },
      }),
    ]);
    await until(() => h.dlq().length === 1, 'dead letter');
    const [dead] = h.dlq();
    expect(dead!.headers['changegate-worker']).toBe('incident');
    expect(dead!.headers['changegate-error-name']).toBe('PayloadError');
    expect(dead!.headers['changegate-error']).toMatch(
      /dev\.changegate\.pipeline\.failed .*: (run|pipeline): /,
    );
    expect(dead!.headers.ce_id).toBe(bad.id);
    expect(incidents(h)).toHaveLength(0);
  });
});
