import { eventJsonSchemas } from './json-schema.js';
import { EVENT_TYPES, type EventType, type TopicName } from './types.js';

/**
 * The AsyncAPI 3.0 document of changegate's Kafka topics, generated from {@link EVENT_TYPES}:
 * one channel per topic (address = the configured topic name), one message per event type whose
 * payload is the type's generated JSON Schema, the CloudEvents binary-mode `ce_*` headers, the
 * record key, and the topics changegate writes that carry no CloudEvent (gate state, delivery
 * log, audit, DLQ). Served at `/asyncapi.json` and published as `schemas/asyncapi.json`.
 *
 * @module
 */

/** Topics changegate writes besides the event topics. */
type InternalTopic = 'deliveries' | 'auditLedger' | 'dlqReplayed';
type Topic = TopicName | InternalTopic;

/** Topic names by logical name (`kafka.topics` in the config). */
export type AsyncApiTopics = Record<TopicName | 'deliveries', string> &
  Partial<Record<InternalTopic, string>>;

/** How a topic is kept, as `bus/topics.ts` creates it. */
export interface AsyncApiTopicSpec {
  topic: string;
  partitions: number;
  cleanup?: 'delete' | 'compact';
  retentionMs?: number;
}

export interface AsyncApiOptions {
  topics: AsyncApiTopics;
  /** Partitions and retention per topic name; omitted from the bindings when absent. */
  specs?: readonly AsyncApiTopicSpec[];
  /** Example broker for `servers`; the real ones come from `kafka.brokers`. */
  broker?: string;
}

type Json = Record<string, unknown>;

const KAFKA_BINDING = '0.5.0';
const ref = (path: string) => ({ $ref: path });

/** How each topic is keyed, so consumers know what stays in order. */
const KEYS: Record<Topic, string> = {
  cicd: '`<provider>/<project>/<deployment or run id>`: every event of one deployment or run stays in order on one partition.',
  changes:
    'CR number (e.g. `CHG0010001`): the gate worker sees one CR’s updates, registrations and decisions in order.',
  servicenow: 'Record sys_id (32 hex).',
  gateState: 'CR number; the topic is compacted, the last record per key is the gate state.',
  audit: 'CR number, or the correlation id until a CR exists.',
  dlq: 'The original record’s key.',
  deliveries: '`<route>:<delivery id>`, e.g. `github:72d3162e-cc78-11e3-81ab-4c9367dc0958`.',
  auditLedger: 'CR number or correlation id: one hash chain per key.',
  dlqReplayed: 'The dead-lettered record’s coordinates.',
};

const CHANNEL_DESCRIPTIONS: Record<Topic, string> = {
  cicd: 'Normalized CI/CD events from every receiver (GitHub, GitLab, Jenkins, Azure DevOps, generic sources).',
  changes:
    'Change-request stream: ServiceNow updates pushed by the business rule, gate registrations and decisions, and the change worker’s actions.',
  servicenow: 'Other ServiceNow records the business rules push (incidents, CMDB CIs).',
  gateState:
    'Compacted changelog of the gate worker’s state (one JSON document per CR, tombstone when forgotten). Internal: restored at start, not a public contract.',
  audit: 'Every decision and every external call, with who, what and why.',
  dlq: 'Records a worker could not process: the original value and headers plus `changegate-*` headers saying why.',
  deliveries:
    'Compacted delivery log: one marker per accepted delivery id, so the dedupe window survives restarts. Internal.',
  auditLedger:
    'Hash-chained copy of the audit trail written by the audit worker, kept forever: `{ key, seq, prevHash, hash, entry }` with hash = sha256(prevHash + canonical JSON of { key, seq, entry }) (src/audit/chain.ts).',
  dlqReplayed:
    'Compacted markers of the DLQ records `changegate replay` has re-published. Internal.',
};

function cloudEventHeaders(type: EventType): Json {
  const str = (description: string): Json => ({ type: 'string', description });
  return {
    type: 'object',
    description:
      'CloudEvents 1.0 Kafka protocol binding, binary content mode: the value is the JSON `data`, every other attribute a `ce_<name>` header (UTF-8).',
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type'],
    properties: {
      ce_specversion: { type: 'string', const: '1.0' },
      ce_id: str(
        'Event id; stable per delivery (the provider’s delivery id, `#<n>` appended for the n-th event of one delivery), so a redelivery carries the same id.',
      ),
      ce_source: str(
        'URI-reference of the producer, e.g. `/changegate/github`, `/changegate/generic/<source>`, `/changegate/workers/gate`.',
      ),
      ce_type: { type: 'string', const: type },
      ce_time: {
        type: 'string',
        format: 'date-time',
        description: 'When changegate received or produced the event.',
      },
      ce_subject: str('What the event is about: the deployment key, CR number or record.'),
      ce_partitionkey: str(
        'CloudEvents partitioning extension: the Kafka key the record was written under.',
      ),
      ce_traceparent: str('W3C Trace Context of the inbound request, when it carried one.'),
      ce_dataschema: str('Unused today; the payload schema is the one of `ce_type`.'),
      'content-type': { type: 'string', const: 'application/json' },
    },
  };
}

/** A generated JSON Schema embedded in the document: `$id`/`$schema` are the file's, not ours. */
function embedded(schema: unknown): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema as Json;
  return rest;
}

function eventMessage(type: EventType, topic: TopicName, schemas: Record<string, unknown>): Json {
  return {
    name: type,
    title: type,
    summary: `A ${type} CloudEvent.`,
    contentType: 'application/json',
    headers: cloudEventHeaders(type),
    payload: embedded(schemas[`events/${type}.schema.json`]),
    bindings: {
      kafka: { key: { type: 'string', description: KEYS[topic] }, bindingVersion: KAFKA_BINDING },
    },
  };
}

/** Messages of the topics that carry no CloudEvent, described from the code that writes them. */
function internalMessages(): Record<string, Json> {
  const key = (topic: Topic) => ({
    kafka: { key: { type: 'string', description: KEYS[topic] }, bindingVersion: KAFKA_BINDING },
  });
  return {
    'gate-state': {
      name: 'gate-state',
      title: 'Gate state of one CR',
      summary:
        'The gate worker’s state for one CR (src/gate/machine.ts CrState); a null value is a tombstone.',
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: { 'content-type': { type: 'string', const: 'application/json' } },
      },
      payload: { type: ['object', 'null'], additionalProperties: true },
      bindings: key('gateState'),
    },
    'delivery-marker': {
      name: 'delivery-marker',
      title: 'Accepted delivery',
      summary: 'Written in the same produce request as the delivery’s events.',
      payload: {
        type: 'object',
        required: ['at'],
        properties: { at: { type: 'number', description: 'Acceptance time, ms since epoch.' } },
      },
      bindings: key('deliveries'),
    },
    'audit-entry': {
      name: 'audit-entry',
      title: 'Audit entry',
      summary: 'One line of the audit trail (src/audit/auditor.ts).',
      contentType: 'application/json',
      headers: {
        type: 'object',
        required: ['content-type', 'changegate-audit-action'],
        properties: {
          'content-type': { type: 'string', const: 'application/json' },
          'changegate-audit-action': { type: 'string', description: 'Same as `action`.' },
        },
      },
      payload: {
        type: 'object',
        required: ['id', 'at', 'key', 'actor', 'action'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          at: { type: 'string', format: 'date-time' },
          key: { type: 'string', description: 'CR number or correlation id.' },
          actor: { type: 'string', description: 'Which worker or person acted.' },
          action: { type: 'string', description: 'What was done, e.g. `gate.released`.' },
          reason: { type: 'string' },
          correlationId: { type: 'string' },
          detail: { type: 'object', additionalProperties: true },
        },
      },
      bindings: key('audit'),
    },
    'dead-letter': {
      name: 'dead-letter',
      title: 'Dead-lettered record',
      summary:
        'The original value, unchanged, with the original headers plus the reason (src/workers/runtime.ts).',
      headers: {
        type: 'object',
        required: [
          'changegate-origin-topic',
          'changegate-origin-partition',
          'changegate-origin-offset',
          'changegate-worker',
          'changegate-error',
          'changegate-error-name',
          'changegate-attempts',
          'changegate-dead-lettered-at',
        ],
        additionalProperties: { type: 'string' },
        properties: {
          'changegate-origin-topic': { type: 'string' },
          'changegate-origin-partition': { type: 'string' },
          'changegate-origin-offset': { type: 'string' },
          'changegate-worker': { type: 'string' },
          'changegate-error': { type: 'string', maxLength: 2000 },
          'changegate-error-name': { type: 'string' },
          'changegate-attempts': {
            type: 'string',
            description: 'Attempts made; 0 when the record was not even readable.',
          },
          'changegate-dead-lettered-at': { type: 'string', format: 'date-time' },
        },
      },
      payload: { description: 'The original record value (any bytes).' },
      bindings: key('dlq'),
    },
    'ledger-record': {
      name: 'ledger-record',
      title: 'Audit ledger record',
      summary: 'One link of a key’s hash chain (src/audit/chain.ts LedgerRecordSchema).',
      contentType: 'application/json',
      headers: {
        type: 'object',
        properties: {
          'content-type': { type: 'string', const: 'application/json' },
          'changegate-audit-action': { type: 'string' },
          'changegate-ledger-seq': { type: 'string' },
        },
      },
      payload: {
        type: 'object',
        required: ['key', 'seq', 'prevHash', 'hash', 'entry'],
        properties: {
          key: { type: 'string', minLength: 1 },
          seq: { type: 'integer', minimum: 1 },
          prevHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          entry: { type: 'object', description: 'The audit entry, as on the audit topic.' },
        },
      },
      bindings: key('auditLedger'),
    },
    'replay-marker': {
      name: 'replay-marker',
      title: 'Replayed dead letter',
      summary: 'Marks a DLQ record as re-published, so a second replay skips it.',
      payload: { description: 'Marker value.' },
      bindings: key('dlqReplayed'),
    },
  };
}

function channelBinding(address: string, specs: readonly AsyncApiTopicSpec[] | undefined): Json {
  const spec = specs?.find((s) => s.topic === address);
  if (!spec) return {};
  const topicConfiguration: Json = { 'cleanup.policy': [spec.cleanup ?? 'delete'] };
  if (spec.retentionMs !== undefined) topicConfiguration['retention.ms'] = spec.retentionMs;
  return {
    bindings: {
      kafka: {
        topic: address,
        partitions: spec.partitions,
        topicConfiguration,
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
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
  const byTopic: Record<string, string[]> = {};
  for (const [type, { topic }] of Object.entries(EVENT_TYPES) as [
    EventType,
    { topic: TopicName },
  ][]) {
    messages[type] = eventMessage(type, topic, schemas);
    (byTopic[topic] ??= []).push(type);
  }
  Object.assign(messages, internalMessages());
  byTopic.gateState = ['gate-state'];
  byTopic.deliveries = ['delivery-marker'];
  byTopic.audit = ['audit-entry'];
  byTopic.dlq = ['dead-letter'];
  byTopic.auditLedger = ['ledger-record'];
  byTopic.dlqReplayed = ['replay-marker'];

  const channels: Record<string, Json> = {};
  for (const name of Object.keys(KEYS) as Topic[]) {
    const address = topics[name];
    // Topics a deployment does not configure (older configs) are simply not described.
    if (address === undefined) continue;
    channels[name] = {
      address,
      title: address,
      description: `${CHANNEL_DESCRIPTIONS[name]} Key: ${KEYS[name]}`,
      messages: Object.fromEntries(
        (byTopic[name] ?? []).map((m) => [m, ref(`#/components/messages/${m}`)]),
      ),
      ...channelBinding(address, specs),
    };
  }

  const op = (action: 'send' | 'receive', channel: string, summary: string, only?: string[]) => ({
    action,
    summary,
    channel: ref(`#/channels/${channel}`),
    messages: (only ?? byTopic[channel] ?? []).map((m) =>
      ref(`#/channels/${channel}/messages/${m}`),
    ),
  });
  const types = (prefix: string) => (byTopic.changes ?? []).filter((t) => t.startsWith(prefix));

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'changegate topics',
      version: '1.0.0',
      description:
        'Kafka topics of changegate. Events are CloudEvents 1.0 in binary content mode (value = JSON data, attributes in `ce_*` headers); each event type’s data is described by the JSON Schema in `schemas/events/<type>.schema.json`, embedded here. Topic names are the configured ones (`kafka.topics`).',
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: broker,
        protocol: 'kafka',
        description: 'Any Kafka 3.x/4.x cluster; the brokers come from `kafka.brokers`.',
      },
    },
    channels,
    operations: {
      publishCicdEvents: op(
        'send',
        'cicd',
        'The receiver publishes every verified CI/CD delivery.',
      ),
      publishChangeUpdates: op(
        'send',
        'changes',
        'The receiver publishes ServiceNow change updates.',
        ['dev.changegate.change.updated'],
      ),
      publishRecordUpdates: op(
        'send',
        'servicenow',
        'The receiver publishes other ServiceNow records.',
      ),
      consumeCicdEvents: op(
        'receive',
        'cicd',
        'The change, incident, cmdb, evidence and notify workers consume CI/CD events.',
      ),
      publishChangeActions: op(
        'send',
        'changes',
        'The change worker reports what it did to a CR and registers gates.',
        [
          ...types('dev.changegate.change.').filter((t) => t !== 'dev.changegate.change.updated'),
          'dev.changegate.gate.registered',
        ],
      ),
      consumeChanges: op(
        'receive',
        'changes',
        'The gate and notify workers consume the CR stream.',
      ),
      publishGateDecisions: op('send', 'changes', 'The gate worker publishes each decision once.', [
        'dev.changegate.gate.released',
        'dev.changegate.gate.rejected',
        'dev.changegate.gate.expired',
      ]),
      writeGateState: op('send', 'gateState', 'The gate worker persists its state per CR.'),
      restoreGateState: op('receive', 'gateState', 'The gate worker restores its state at start.'),
      writeDeliveries: op('send', 'deliveries', 'The receiver records each accepted delivery id.'),
      restoreDeliveries: op(
        'receive',
        'deliveries',
        'The receiver restores the dedupe window at start.',
      ),
      writeAudit: op('send', 'audit', 'Workers write an audit entry with every decision.'),
      deadLetter: op('send', 'dlq', 'Workers dead-letter what they cannot process.'),
      ...(topics.auditLedger
        ? {
            writeLedger: op('send', 'auditLedger', 'The audit worker chains every audit entry.'),
            consumeAudit: op('receive', 'audit', 'The audit worker reads the audit trail.'),
          }
        : {}),
      consumeDeadLetters: op('receive', 'dlq', 'The notify worker reports dead letters.'),
    },
    components: { messages },
  };
}
