import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { topicSpecs } from '../../../src/bus/topics.js';
import { KafkaSchema } from '../../../src/config/schema.js';
import { asyncApiDocument } from '../../../src/events/asyncapi.js';
import { eventJsonSchemas } from '../../../src/events/json-schema.js';
import { EVENT_TYPES } from '../../../src/events/types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const kafka = KafkaSchema.parse({});
const doc = asyncApiDocument({ topics: kafka.topics, specs: topicSpecs(kafka) }) as Json;

/** Spectral severities: 0 error, 1 warning, 2 information, 3 hint. */
async function errorsOf(document: unknown): Promise<string[]> {
  const diagnostics = await new Parser().validate(JSON.stringify(document));
  return diagnostics
    .filter((d) => d.severity === 0)
    .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
}

describe('AsyncAPI document', () => {
  it('validates with @asyncapi/parser without a single error', async () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(await errorsOf(doc)).toEqual([]);
  }, 60_000);

  it('is refused by the parser once a payload schema is broken (the check has teeth)', async () => {
    const broken = structuredClone(doc);
    broken.components.messages['dev.changegate.gate.released'].payload = { type: 'nonsense' };
    expect((await errorsOf(broken)).length).toBeGreaterThan(0);
  }, 60_000);

  it('puts every event type on its topic with its generated JSON Schema as payload', () => {
    const schemas = eventJsonSchemas();
    for (const [type, { topic }] of Object.entries(EVENT_TYPES)) {
      const channel = doc.channels[topic];
      expect(channel.address).toBe(kafka.topics[topic]);
      expect(channel.messages[type]).toEqual({ $ref: `#/components/messages/${type}` });
      const message = doc.components.messages[type];
      const {
        $id: _id,
        $schema: _schema,
        ...generated
      } = schemas[`events/${type}.schema.json`] as Json;
      expect(message.payload).toEqual(generated);
      expect(message.headers.properties.ce_type).toEqual({ type: 'string', const: type });
      expect(message.bindings.kafka.key.type).toBe('string');
    }
  });

  it('describes every topic changegate creates, with its cleanup policy and retention', () => {
    for (const spec of topicSpecs(kafka)) {
      const channel = Object.values(doc.channels as Record<string, Json>).find(
        (c) => c.address === spec.topic,
      );
      expect(channel, spec.topic).toBeDefined();
      const binding = channel!.bindings.kafka;
      expect(binding.partitions).toBe(spec.partitions);
      expect(binding.topicConfiguration['cleanup.policy']).toEqual([spec.cleanup ?? 'delete']);
      expect(binding.topicConfiguration['retention.ms']).toBe(spec.retentionMs);
    }
  });

  it('names the configured topics, not the defaults, when topics are renamed', () => {
    const renamed = KafkaSchema.parse({ topics: { cicd: 'acme.ci', changes: 'acme.changes' } });
    const custom = asyncApiDocument({ topics: renamed.topics }) as Json;
    expect(custom.channels.cicd.address).toBe('acme.ci');
    expect(custom.channels.changes.address).toBe('acme.changes');
  });
});
