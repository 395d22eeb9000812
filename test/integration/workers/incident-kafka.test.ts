import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaBus } from '../../../src/bus/kafka.js';
import { toRecord } from '../../../src/bus/cloudevents.js';
import { cmdbWorker } from '../../../src/workers/cmdb/index.js';
import { incidentWorker } from '../../../src/workers/incident/index.js';
import { createTestKafkaBus, hasKafka } from '../../support/kafka.js';
import {
  deploymentEvent,
  pipelineEvent,
  startHarness,
  until,
  type Harness,
} from './incident-harness.js';

let h: Harness | undefined;
let bus: KafkaBus | undefined;
afterEach(async () => {
  await h?.close();
  await bus?.close();
  h = undefined;
  bus = undefined;
});

describe.skipIf(!hasKafka())('incident and cmdb workers on real Kafka', () => {
  it('files one incident for 30 failures across partitions, counts a redelivery once, resolves on success', async () => {
    bus = createTestKafkaBus();
    h = await startHarness({
      bus,
      incidents: { policies: [{ name: 'ci', match: {}, on: ['pipeline.failed'] }] },
      worker: (deps) => incidentWorker(deps),
    });
    const failures = Array.from({ length: 30 }, (_, i) => pipelineEvent('failed', 300 + i));
    h.sandbox.admin.faults.inject({
      kind: '500',
      method: 'PATCH',
      path: '/api/now/table/incident/*',
      count: 3,
    });
    await h.publish(...failures);
    await h.publish(failures[0]!, failures[17]!); // redelivered
    await until(() => h!.outcomes.length === 32, '32 records handled', 60_000);

    const [inc] = h.sandbox.admin.records('incident');
    expect(h.sandbox.admin.records('incident')).toHaveLength(1);
    const notes = h.sandbox.admin
      .records('sys_journal_field')
      .filter((j) => j.element_id === inc!.sys_id && j.element === 'work_notes');
    expect(notes).toHaveLength(30);
    // The count is kept in the notes (the instance has no custom count field).
    const counts = notes.map((j) => Number(/\((\d+) times?\)/.exec(j.value ?? '')?.[1] ?? 0));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    await h.publish(pipelineEvent('succeeded', 400));
    await until(() => h!.sandbox.admin.records('incident')[0]!.state === '6', 'resolved', 30_000);
    await until(() => h!.audits().some((a) => a.action === 'incident.resolved'), 'audit', 30_000);
    expect(h.audits().filter((a) => a.action === 'incident.created')).toHaveLength(1);
    expect(h.dlq()).toHaveLength(0);
  });

  it('registers a CI once per version and dead-letters schema-invalid data with the reason', async () => {
    bus = createTestKafkaBus();
    h = await startHarness({
      bus,
      maxAttempts: 2,
      cmdb: {
        policies: [
          {
            name: 'apps',
            relations: [
              { type: 'Runs on::Runs', className: 'cmdb_ci_linux_server', name: 'web-01' },
            ],
          },
        ],
      },
      worker: (deps) => cmdbWorker(deps),
    });
    const ok = deploymentEvent('succeeded', 'dep-k', { labels: ['version:3.1.0'] });
    const bad = deploymentEvent('succeeded', 'dep-bad');
    await h.publish(ok, ok);
    await h.bus.publish([
      toRecord(h.config.kafka.topics.cicd, {
        ...bad,
        data: { ...(bad.data as object), deploymentId: '' },
      }),
    ]);
    await until(() => h!.outcomes.length === 3, '3 records handled', 60_000);
    const apps = h.sandbox.admin.records('cmdb_ci_appl').filter((r) => r.name === 'acme/payments');
    expect(apps).toHaveLength(1);
    expect(apps[0]!.version).toBe('3.1.0');
    expect(h.sandbox.admin.records('cmdb_rel_ci')).toHaveLength(1);
    await until(() => h!.dlq().length === 1, 'dead letter', 30_000);
    expect(h.dlq()[0]!.headers['changegate-error']).toMatch(/deploymentId/);
  });
});
