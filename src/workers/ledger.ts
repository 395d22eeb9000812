import type { Bus, BusRecord, ConsumedRecord, Subscription } from '../bus/port.js';
import { link, LedgerRecordSchema, type ChainHead } from '../audit/chain.js';
import { AuditLineSchema } from '../audit/entry.js';
import type { Config } from '../config/schema.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';

export interface LedgerWorkerOptions {
  bus: Bus;
  config: Pick<Config, 'kafka'>;
  log: Logger;
  /** Default `<groupPrefix>-audit-ledger`. */
  groupId?: string;
  /** Entry ids remembered per key to drop redelivered audit records. */
  recentIdsPerKey?: number;
}

export interface LedgerWorker {
  /** The end of every chain: key → last seq and hash. */
  heads(): ReadonlyMap<string, ChainHead>;
  close(): Promise<void>;
}

const DEFAULT_RECENT_IDS = 256;

/**
 * The audit ledger: the one writer of the hash chains.
 *
 * Several processes write audit lines for one CR (change worker, gate worker, observer), so a
 * chain computed by the writers would fork. Instead this worker consumes `changegate.audit`,
 * which is keyed by CR number (or correlation id): one key lives on one partition, and one
 * partition is handled by one consumer in offset order — so each chain has exactly one writer
 * and one order. Each line is appended to `changegate.audit-ledger` (same key, never compacted)
 * as `{ key, seq, prevHash, hash, entry }` (src/audit/chain.ts).
 *
 * Invariants:
 * - The chain heads are restored from the ledger itself before consuming; nothing else is state.
 * - A line is appended, then its offset committed (the bus contract). A crash in between
 *   redelivers it; its entry id is then already in the restored ledger and it is not appended
 *   twice. Lines the writers repeat with a fresh id (a retried handler) are appended again:
 *   the ledger records what was written, it does not judge it.
 * - A line that is not an audit line is dead-lettered with the reason, never silently skipped.
 *
 * Run one replica (like the gate worker): heads are in memory, and a partition moving to a
 * replica that restored before the last appends would fork a chain.
 */
export async function startLedgerWorker({
  bus,
  config,
  log: parent,
  groupId,
  recentIdsPerKey = DEFAULT_RECENT_IDS,
}: LedgerWorkerOptions): Promise<LedgerWorker> {
  const log = parent.child({ worker: 'audit-ledger' });
  const { topics, partitions, groupPrefix } = config.kafka;
  const heads = new Map<string, ChainHead>();
  const recent = new Map<string, string[]>();

  const remember = (key: string, id: string) => {
    let ids = recent.get(key);
    if (!ids) recent.set(key, (ids = []));
    ids.push(id);
    if (ids.length > recentIdsPerKey) ids.shift();
  };

  await bus.ensureTopics([
    { topic: topics.auditLedger, partitions, cleanup: 'delete', retentionMs: -1 },
  ]);
  let restored = 0;
  await bus.readToEnd(topics.auditLedger, (record) => {
    const parsed = LedgerRecordSchema.safeParse(parseJson(record.value));
    if (!parsed.success) return;
    const r = parsed.data;
    // Keep the furthest head: a re-published (tampered) copy of an old record must not rewind it.
    if ((heads.get(r.key)?.seq ?? 0) < r.seq) heads.set(r.key, { seq: r.seq, hash: r.hash });
    remember(r.key, r.entry.id);
    restored += 1;
  });
  log.info({ chains: heads.size, records: restored }, 'audit ledger restored');

  const deadLetter = (record: ConsumedRecord, reason: string) =>
    bus.publish([
      {
        topic: topics.dlq,
        key: record.key,
        value: record.value,
        headers: {
          ...record.headers,
          'changegate-origin-topic': record.topic,
          'changegate-origin-partition': String(record.partition),
          'changegate-origin-offset': record.offset,
          'changegate-worker': 'audit-ledger',
          'changegate-error': reason,
          'changegate-error-name': 'PayloadError',
          'changegate-attempts': '0',
          'changegate-dead-lettered-at': new Date().toISOString(),
        },
      },
    ]);

  const handler = async (record: ConsumedRecord) => {
    const raw = parseJson(record.value);
    const line = AuditLineSchema.safeParse(raw);
    if (!line.success) {
      await deadLetter(record, `not an audit line: ${line.error.issues[0]?.message ?? 'invalid'}`);
      log.warn({ offset: record.offset, partition: record.partition }, 'audit line dead-lettered');
      return;
    }
    // The raw object, not zod's copy: the hash covers exactly what the writer wrote.
    const entry = raw as typeof line.data;
    const key = entry.key;
    if (recent.get(key)?.includes(entry.id)) return;
    const next = link(key, heads.get(key), entry);
    const value: BusRecord = {
      topic: topics.auditLedger,
      key,
      value: Buffer.from(JSON.stringify(next)),
      headers: {
        'content-type': 'application/json',
        'changegate-audit-action': entry.action,
        'changegate-ledger-seq': String(next.seq),
      },
    };
    await bus.publish([value]);
    heads.set(key, { seq: next.seq, hash: next.hash });
    remember(key, entry.id);
  };

  const subscription: Subscription = await bus.subscribe({
    groupId: groupId ?? `${groupPrefix}-audit-ledger`,
    topics: [topics.audit],
    fromBeginning: true,
    handler: async (record) => {
      try {
        await handler(record);
      } catch (err) {
        log.warn({ err: coerceError(err).message }, 'ledger append failed; redelivering');
        throw err;
      }
    },
  });

  return {
    heads: () => heads,
    close: () => subscription.close(),
  };
}

function parseJson(value: Buffer | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
