import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { BusRecord } from '../../../src/bus/port.js';
import { loadConfig } from '../../../src/config/load.js';
import { DeliveryLog } from '../../../src/ingest/delivery-log.js';
import { ingest } from '../../../src/ingest/ingest.js';
import { RECEIVERS } from '../../../src/receivers/registry.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';

const SECRET = 'github-secret-of-the-ingest-test';

const config = loadConfig({
  env: {},
  overrides: (raw) =>
    Object.assign(raw, { bus: 'memory', sources: { github: { secrets: [SECRET] } } }),
});

async function publishedFor(body: string, deliveryId: string): Promise<BusRecord[]> {
  const published: BusRecord[] = [];
  const deliveries = new DeliveryLog({
    bus: createMemoryBus(),
    topic: 'd',
    windowMs: 1e9,
    maxEntries: 10,
  });
  await ingest(
    RECEIVERS.github!.receiver,
    githubRequest('workflow_run', null, { secret: SECRET, body, deliveryId }),
    {
      config,
      deliveries,
      seal: async () => '',
      publisher: { publish: async (r) => void published.push(...r) },
    },
  );
  return published.filter((r) => r.topic === config.kafka.topics.cicd);
}

describe('ingest', () => {
  it('writes the provider payload into the event byte for byte equal to re-encoding it', async () => {
    const payload = githubFixture('workflow_run.completed');
    const pretty = JSON.stringify(payload, null, 2); // whitespace survives the splice
    const [record] = await publishedFor(pretty, 'splice-1');
    // Spliced, not re-encoded: the sender's own formatting is still there.
    expect(record!.value!.toString()).toContain('"workflow_run": {');
    const data = JSON.parse(record!.value!.toString()) as {
      raw: { payload: unknown };
      project: string;
    };
    expect(data.raw.payload).toEqual(payload);
    expect(data.project).toBe('octo-org/octo-repo');
  });

  it('re-encodes instead of splicing when a prototype key had to be dropped', async () => {
    const payload = githubFixture('workflow_run.completed');
    const body = JSON.stringify({ ...payload, ['__proto__']: { polluted: true } }).replace(
      '"__proto__"',
      '"\\u005f_proto__"',
    );
    const [record] = await publishedFor(body, 'splice-2');
    const text = record!.value!.toString();
    expect(text).not.toContain('proto');
    expect((JSON.parse(text) as { raw: { payload: unknown } }).raw.payload).toEqual(payload);
  });
});
