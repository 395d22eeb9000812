import type { TopicName } from '../types.js';

/**
 * What the AsyncAPI document says about each topic: how it is keyed and what it carries, and the
 * Kafka binding of a record key.
 *
 * @module
 */

/** Topics changegate writes besides the event topics. */
export type InternalTopic =
  'deliveries' | 'auditLedger' | 'auditCheckpoints' | 'dlqReplayed' | 'recovery';
/** Every topic the document can describe, by logical name. */
export type Topic = TopicName | InternalTopic;

/** A JSON object of the document. */
export type Json = Record<string, unknown>;

/** The version of the AsyncAPI Kafka bindings used throughout. */
export const KAFKA_BINDING = '0.5.0';

/** How each topic is keyed, so consumers know what stays in order. */
export const KEYS: Record<Topic, string> = {
  cicd: '`<provider>/<project>/<deployment or run id>`: every event of one deployment or run stays in order on one partition.',
  changes:
    'CR number (e.g. `CHG0010001`): the gate worker sees one CR’s updates, registrations and decisions in order.',
  servicenow: 'Record sys_id (32 hex).',
  gateState: 'CR number; the topic is compacted, the last record per key is the gate state.',
  audit: 'CR number, or the correlation id until a CR exists.',
  dlq: 'The original record’s key.',
  deliveries: '`<route>:<delivery id>`, e.g. `github:72d3162e-cc78-11e3-81ab-4c9367dc0958`.',
  auditLedger: 'CR number or correlation id: one hash chain per key.',
  auditCheckpoints:
    '`<ledger topic>#<ledger partition>` (one partition: each ledger partition’s checkpoints chain in order).',
  dlqReplayed: 'The dead-lettered record’s coordinates.',
  recovery: 'The source recovered from, e.g. `github`.',
};

/** What each topic carries. */
export const CHANNEL_DESCRIPTIONS: Record<Topic, string> = {
  cicd: 'Normalized CI/CD events from every receiver (GitHub, GitLab, Jenkins, Azure DevOps, generic sources). A delivery the receiver acknowledged (202) is here, or fsynced in that receiver’s spool and forwarded here in order once the broker is writable; a forwarded event carries the same CloudEvent id (the delivery id) it would have had, so a copy that also landed from a timed-out publish is a duplicate consumers drop. Verified deliveries no normalizer understands are here as `dev.changegate.webhook.received` with `data.reason`.',
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
    'Hash-chained copy of the audit trail written by the audit worker, kept forever: `{ key, seq, prevHash, hash, entry, sig }` with hash = sha256(prevHash + canonical JSON of { key, seq, entry }) and sig = HMAC-SHA256 under the audit key of { key, seq, prevHash, hash } (src/audit/chain.ts).',
  auditCheckpoints:
    'Signed checkpoints of the ledger written by the audit worker per ledger partition, on a schedule and when a replica gives the partition up: each chain’s head (seq, hash) and a root over the partition’s chains, each checkpoint linked to the partition’s one before (src/audit/checkpoint.ts). Kept forever.',
  dlqReplayed:
    'Compacted markers of the DLQ records `changegate replay` has re-published. Internal.',
  recovery:
    'Compacted recovery points: per source, from which delivery time `changegate recover <source>` looks for failed deliveries next. Internal.',
};

/** A message's Kafka binding: the record key of `topic`. */
export const keyBinding = (topic: Topic): Json => ({
  kafka: { key: { type: 'string', description: KEYS[topic] }, bindingVersion: KAFKA_BINDING },
});

/** `$ref` to a path inside the document. */
export const ref = (path: string) => ({ $ref: path });
