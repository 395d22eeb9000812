import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { BusRecord } from '../../../src/bus/port.js';
import { loadConfig } from '../../../src/config/load.js';
import { DeliveryLog } from '../../../src/ingest/delivery-log.js';
import { ingest, type IngestDeps } from '../../../src/ingest/ingest.js';
import type { Receiver } from '../../../src/receivers/types.js';
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
    expect(data.project).toBe('acme/payments');
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

  const fake = (normalize: () => Promise<never>): Receiver<never> => ({
    name: 'github',
    secrets: () => 's' as never,
    verify: () => ({ deliveryId: 'fake-1' }),
    normalize,
  });
  const deps = (published: BusRecord[], durable?: IngestDeps['durable']): IngestDeps => ({
    config,
    deliveries: new DeliveryLog({
      bus: createMemoryBus(),
      topic: 'd',
      windowMs: 1e9,
      maxEntries: 10,
    }),
    seal: async () => '',
    publisher: { publish: async (r) => void published.push(...r) },
    durable,
  });
  const request = () => githubRequest('push', { zen: 'x' }, { secret: 's', deliveryId: 'fake-1' });

  it('publishes a verified delivery whose normalizer throws a TypeError as webhook.received, with the reason', async () => {
    const published: BusRecord[] = [];
    const outcome = await ingest(
      fake(() =>
        Promise.reject(new TypeError("Cannot read properties of undefined (reading 'id')")),
      ),
      request(),
      deps(published),
    );
    expect(outcome).toMatchObject({ status: 202, types: ['dev.changegate.webhook.received'] });
    const data = JSON.parse(published[0]!.value!.toString()) as {
      reason: string;
      raw: { payload: unknown };
    };
    expect(data.reason).toMatch(/^normalizer_error: Cannot read properties/);
    expect(data.raw.payload).toEqual({ zen: 'x' });
  });

  it('lets any other normalizer failure through (a 500 is a bug to see, not a payload to hide)', async () => {
    await expect(
      ingest(
        fake(() => Promise.reject(new Error('sealer has no key'))),
        request(),
        deps([]),
      ),
    ).rejects.toThrow('sealer has no key');
  });

  it('reports where the delivery is: spooled when the durable publisher spooled it, and a duplicate while the spool holds it', async () => {
    const calls: string[][] = [];
    const durable = {
      holds: (key: string) => calls.some((keys) => keys.includes(key)),
      publish: async (_records: BusRecord[], keys: string[]) => {
        calls.push(keys);
        return 'spooled' as const;
      },
    };
    const published: BusRecord[] = [];
    const receiver = RECEIVERS.github!.receiver;
    const first = await ingest(receiver, request(), deps(published, durable));
    expect(first).toMatchObject({ status: 202, durability: 'spooled' });
    expect(calls[0]).toEqual(['github:fake-1', expect.stringMatching(/^github:sig:[0-9a-f]{64}$/)]);
    const again = await ingest(receiver, request(), deps(published, durable));
    expect(again).toMatchObject({ status: 200, outcome: 'duplicate' });
    expect(published).toEqual([]);
  });
});
