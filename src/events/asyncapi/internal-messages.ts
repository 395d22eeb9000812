import { z } from 'zod';
import { DeadLetterHeadersSchema } from '../dead-letter.js';
import { keyBinding, type Json, type Topic } from './topics.js';

/**
 * Messages of the topics that carry no CloudEvent (gate state, delivery log, audit, DLQ, ledger,
 * replay markers), described from the code that writes them: one message per topic.
 *
 * @module
 */

/** A message of the document; `name` is its key under `components.messages`. */
export type Message = Json & { name: string };

/** The message each internal topic carries, without its key binding (that comes from the topic). */
const MESSAGES: Partial<Record<Topic, Message>> = {
  gateState: {
    name: 'gate-state',
    title: 'Gate state of one CR',
    summary:
      'The gate worker’s state for one CR as a state-kit changelog entry: `{ state, timers }`, `state` a CrState (src/gate/state.ts), `timers` its wake-up; a null value is a tombstone.',
    contentType: 'application/json',
    headers: {
      type: 'object',
      properties: { 'content-type': { type: 'string', const: 'application/json' } },
    },
    payload: { type: ['object', 'null'], additionalProperties: true },
  },
  deliveries: {
    name: 'delivery-marker',
    title: 'Accepted delivery',
    summary: 'Written in the same produce request as the delivery’s events.',
    payload: {
      type: 'object',
      required: ['at'],
      properties: { at: { type: 'number', description: 'Acceptance time, ms since epoch.' } },
    },
  },
  audit: {
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
  },
  dlq: {
    name: 'dead-letter',
    title: 'Dead-lettered record',
    summary:
      'The original value, unchanged, with the original headers plus the reason (src/events/dead-letter.ts).',
    // Generated from the schema the runtime writes them with: the block exists once.
    headers: {
      ...withoutDialect(z.toJSONSchema(DeadLetterHeadersSchema, { io: 'output' })),
      additionalProperties: { type: 'string' },
    },
    payload: { description: 'The original record value (any bytes).' },
  },
  auditLedger: {
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
        sig: { type: 'string', description: 'HMAC-SHA256 (base64url) under the audit key.' },
      },
    },
  },
  auditCheckpoints: {
    name: 'ledger-checkpoint',
    title: 'Audit ledger checkpoint',
    summary:
      'Signed heads of the chains of one ledger partition (src/audit/checkpoint.ts CheckpointSchema): the chains that moved since that partition’s checkpoint n − 1, and a root over all of them.',
    contentType: 'application/json',
    headers: {
      type: 'object',
      properties: {
        'content-type': { type: 'string', const: 'application/json' },
        'changegate-checkpoint': {
          type: 'string',
          description: 'The checkpoint number n (per ledger partition).',
        },
        'changegate-ledger-partition': {
          type: 'string',
          description: 'The ledger partition whose chains it states.',
        },
      },
    },
    payload: {
      type: 'object',
      required: [
        'type',
        'version',
        'ledgerTopic',
        'partition',
        'n',
        'at',
        'prev',
        'full',
        'heads',
        'chains',
        'root',
        'sig',
      ],
      properties: {
        type: { type: 'string', const: 'changegate.audit-checkpoint' },
        version: { type: 'integer', const: 2 },
        ledgerTopic: { type: 'string' },
        partition: { type: 'integer', minimum: 0 },
        n: { type: 'integer', minimum: 1 },
        at: { type: 'string', format: 'date-time' },
        prev: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        full: { type: 'boolean' },
        heads: {
          type: 'array',
          items: {
            type: 'object',
            required: ['key', 'seq', 'hash'],
            properties: {
              key: { type: 'string' },
              seq: { type: 'integer', minimum: 1 },
              hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            },
          },
        },
        chains: { type: 'integer', minimum: 0 },
        root: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        sig: { type: 'string', description: 'HMAC-SHA256 (base64url) under the audit key.' },
      },
    },
  },
  dlqReplayed: {
    name: 'replay-marker',
    title: 'Replayed dead letter',
    summary: 'Marks a DLQ record as re-published, so a second replay skips it.',
    payload: { description: 'Marker value.' },
  },
  recovery: {
    name: 'recovery-point',
    title: 'Recovery point',
    summary: 'How far `changegate recover <source>` got (src/commands/recover-github.ts).',
    payload: {
      type: 'object',
      required: ['source', 'from', 'recoveredAt'],
      properties: {
        source: { type: 'string', description: 'e.g. `github`' },
        from: {
          type: 'string',
          format: 'date-time',
          description: 'The next run examines deliveries made at or after this time.',
        },
        recoveredAt: { type: 'string', format: 'date-time' },
      },
    },
  },
};

/** Each internal topic with its one message, keyed for that topic. */
export function internalMessages(): [Topic, Message][] {
  return (Object.entries(MESSAGES) as [Topic, Message][]).map(([topic, message]) => [
    topic,
    { ...message, bindings: keyBinding(topic) },
  ]);
}

/** A zod-generated schema embedded in the document: the document names the dialect once. */
function withoutDialect(schema: Record<string, unknown>): Json {
  const { $schema: _dialect, ...rest } = schema;
  return rest as Json;
}
