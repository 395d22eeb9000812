import { channels, type AsyncApiTopicSpec } from './asyncapi/channels.js';
import { eventMessage } from './asyncapi/event-messages.js';
import { internalMessages } from './asyncapi/internal-messages.js';
import { operations } from './asyncapi/operations.js';
import type { InternalTopic, Json, Topic } from './asyncapi/topics.js';
import { eventJsonSchemas } from './json-schema.js';
import { EVENT_TYPES, type EventType, type TopicName } from './types.js';

/**
 * The AsyncAPI 3.0 document of changegate's Kafka topics, generated from {@link EVENT_TYPES}:
 * one channel per topic (address = the configured topic name), one message per event type whose
 * payload is the type's generated JSON Schema, the CloudEvents binary-mode `ce_*` headers, the
 * record key, and the topics changegate writes that carry no CloudEvent (gate state, delivery
 * log, audit, DLQ). Served at `/asyncapi.json` and published as `schemas/asyncapi.json`.
 * The parts live in `asyncapi/`: `topics.ts`, `event-messages.ts`, `internal-messages.ts`,
 * `channels.ts`, `operations.ts`.
 *
 * @module
 */

export type { AsyncApiTopicSpec } from './asyncapi/channels.js';

/** Topic names by logical name (`kafka.topics` in the config). */
export type AsyncApiTopics = Record<TopicName | 'deliveries', string> &
  Partial<Record<InternalTopic, string>>;

export interface AsyncApiOptions {
  topics: AsyncApiTopics;
  /** Partitions and retention per topic name; omitted from the bindings when absent. */
  specs?: readonly AsyncApiTopicSpec[];
  /** Example broker for `servers`; the real ones come from `kafka.brokers`. */
  broker?: string;
}

/**
 * Build the document for the given topic names (and, optionally, their partition/retention).
 * @example asyncApiDocument({ topics: config.kafka.topics, specs: topicSpecs(config.kafka) })
 */
export function asyncApiDocument({
  topics,
  specs,
  broker = 'localhost:9092',
}: AsyncApiOptions): Json {
  const schemas = eventJsonSchemas();
  const messages: Record<string, Json> = {};
  const byTopic: Partial<Record<Topic, string[]>> = {};
  for (const [type, { topic }] of Object.entries(EVENT_TYPES) as [
    EventType,
    { topic: TopicName },
  ][]) {
    messages[type] = eventMessage(type, topic, schemas);
    (byTopic[topic] ??= []).push(type);
  }
  for (const [topic, message] of internalMessages()) {
    messages[message.name] = message;
    byTopic[topic] = [message.name];
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'changegate topics',
      version: '1.0.0',
      description:
        'Kafka topics of changegate. Events are CloudEvents 1.0 in binary content mode (value = JSON data, attributes in `ce_*` headers); each event type’s data is described by the JSON Schema in `schemas/events/<type>.schema.json`, embedded here. Topic names are the configured ones (`kafka.topics`). Delivery guarantee: a webhook answered 202 is on Kafka with acks=all, or fsynced in the receiving process’s spool, from where it is forwarded, in order, when the broker is writable again.',
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: broker,
        protocol: 'kafka',
        description: 'Any Kafka 3.x/4.x cluster; the brokers come from `kafka.brokers`.',
      },
    },
    channels: channels(topics, byTopic, specs),
    operations: operations(byTopic, Boolean(topics.auditLedger)),
    components: { messages },
  };
}
