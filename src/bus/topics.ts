import type { Config } from '../config/schema.js';
import type { TopicSpec } from './port.js';

/**
 * The topics changegate needs and how each is kept (DESIGN.md §4). Event streams keep a week
 * for replay; state changelogs are compacted (the last record per key is the state); the audit
 * trail is kept long, the DLQ long enough for someone to look.
 *
 * @module
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Every topic of the config with its partitions, cleanup policy and retention. */
export function topicSpecs(kafka: Config['kafka']): TopicSpec[] {
  const { topics, partitions } = kafka;
  const events = (topic: string): TopicSpec => ({
    topic,
    partitions,
    cleanup: 'delete',
    retentionMs: 7 * DAY_MS,
  });
  return [
    events(topics.cicd),
    events(topics.changes),
    events(topics.servicenow),
    { topic: topics.gateState, partitions, cleanup: 'compact' },
    { topic: topics.deliveries, partitions, cleanup: 'compact' },
    { topic: topics.audit, partitions, cleanup: 'delete', retentionMs: 90 * DAY_MS },
    { topic: topics.dlq, partitions, cleanup: 'delete', retentionMs: 30 * DAY_MS },
    // The ledger is the evidence: kept forever (-1), or chains could not be verified from seq 1.
    { topic: topics.auditLedger, partitions, cleanup: 'delete', retentionMs: -1 },
    // One partition: checkpoints form a chain of their own, read in order.
    { topic: topics.auditCheckpoints, partitions: 1, cleanup: 'delete', retentionMs: -1 },
    { topic: topics.dlqReplayed, partitions, cleanup: 'compact' },
  ];
}
