import { describe, expect, it } from 'vitest';
import { createBus } from '../../../src/bus/index.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { ConfigSchema } from '../../../src/config/schema.js';

describe('topicSpecs', () => {
  const config = ConfigSchema.parse({ bus: 'memory', kafka: { partitions: 12 } });

  it('lists every configured topic with the configured partitions', () => {
    const specs = topicSpecs(config.kafka);
    expect(specs.map((s) => s.topic).sort()).toEqual(Object.values(config.kafka.topics).sort());
    // The checkpoints chain in one order, so they live on one partition.
    const { auditCheckpoints } = config.kafka.topics;
    expect(specs.every((s) => s.partitions === (s.topic === auditCheckpoints ? 1 : 12))).toBe(true);
  });

  it('compacts state changelogs and keeps audit longest', () => {
    const byTopic = new Map(topicSpecs(config.kafka).map((s) => [s.topic, s]));
    const { topics } = config.kafka;
    expect(byTopic.get(topics.gateState)?.cleanup).toBe('compact');
    expect(byTopic.get(topics.deliveries)?.cleanup).toBe('compact');
    expect(byTopic.get(topics.cicd)).toMatchObject({
      cleanup: 'delete',
      retentionMs: 7 * 86_400_000,
    });
    expect(byTopic.get(topics.audit)?.retentionMs).toBe(90 * 86_400_000);
    expect(byTopic.get(topics.dlq)?.retentionMs).toBe(30 * 86_400_000);
  });
});

describe('createBus', () => {
  it('returns the memory bus when the config says memory', async () => {
    const bus = createBus(ConfigSchema.parse({ bus: 'memory' }));
    expect(bus.kind).toBe('memory');
    await bus.close();
  });

  it('returns the Kafka bus without connecting when the config says kafka', async () => {
    const bus = createBus(
      ConfigSchema.parse({
        kafka: { brokers: ['127.0.0.1:1'] },
        security: { encryptionKey: Buffer.alloc(32, 1).toString('base64') },
      }),
    );
    expect(bus.kind).toBe('kafka');
    await bus.close();
  });
});
