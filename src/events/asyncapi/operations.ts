import { ref, type Json, type Topic } from './topics.js';

/**
 * The document's operations: who sends to and receives from each channel, and which messages.
 *
 * @module
 */

/**
 * Every operation changegate performs on its topics.
 * @param byTopic message names by logical topic name.
 * @param withLedger whether the audit ledger topic is configured (the audit worker runs).
 */
export function operations(byTopic: Partial<Record<Topic, string[]>>, withLedger: boolean): Json {
  const op = (action: 'send' | 'receive', channel: Topic, summary: string, only?: string[]) => ({
    action,
    summary,
    channel: ref(`#/channels/${channel}`),
    messages: (only ?? byTopic[channel] ?? []).map((m) =>
      ref(`#/channels/${channel}/messages/${m}`),
    ),
  });
  const types = (prefix: string) => (byTopic.changes ?? []).filter((t) => t.startsWith(prefix));

  return {
    publishCicdEvents: op('send', 'cicd', 'The receiver publishes every verified CI/CD delivery.'),
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
      'The change, incident, cmdb and evidence workers consume CI/CD events.',
    ),
    publishChangeActions: op(
      'send',
      'changes',
      'The change worker reports what it did to a CR and registers gates, or decides them at the request.',
      [
        ...types('dev.changegate.change.').filter((t) => t !== 'dev.changegate.change.updated'),
        'dev.changegate.gate.registered',
        'dev.changegate.gate.predecided',
      ],
    ),
    consumeChanges: op('receive', 'changes', 'The gate and notify workers consume the CR stream.'),
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
    ...(withLedger
      ? {
          writeLedger: op('send', 'auditLedger', 'The audit worker chains every audit entry.'),
          writeCheckpoints: op(
            'send',
            'auditCheckpoints',
            'The audit worker checkpoints the chain heads on a schedule and at shutdown.',
          ),
          consumeAudit: op('receive', 'audit', 'The audit worker reads the audit trail.'),
        }
      : {}),
    consumeDeadLetters: op('receive', 'dlq', 'The notify worker reports dead letters.'),
  };
}
