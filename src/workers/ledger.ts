import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  CheckpointSchema,
  checkpointDigest,
  foldCheckpoints,
  fullCheckpoint,
  makeCheckpoint,
  type Checkpoint,
} from '../audit/checkpoint.js';
import {
  GENESIS_HASH,
  link,
  LedgerRecordSchema,
  recordSignatureProblem,
  type ChainHead,
} from '../audit/chain.js';
import { AuditLineSchema } from '../audit/entry.js';
import { verifyAuditLine, type AuditKey } from '../audit/signing.js';
import type { Bus, BusRecord, ConsumedRecord, Subscription } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';

export interface LedgerWorkerOptions {
  bus: Bus;
  config: Pick<Config, 'kafka'> & {
    audit: Pick<Config['audit'], 'checkpointIntervalMs' | 'checkpointFile'>;
  };
  /** Signs ledger records and checkpoints, and checks the writers' signatures (signing.ts). */
  key: AuditKey;
  log: Logger;
  /** Default `<groupPrefix>-audit-ledger`. */
  groupId?: string;
  /** Entry ids remembered per key to drop redelivered audit records. */
  recentIdsPerKey?: number;
  clock?: () => Date;
}

export interface LedgerWorker {
  /** The end of every chain: key → last seq and hash. */
  heads(): ReadonlyMap<string, ChainHead>;
  /**
   * Write a checkpoint now (the schedule and close() call this too). Nothing is written when no
   * chain moved since the last one; that one is returned.
   */
  checkpoint(): Promise<Checkpoint | undefined>;
  /** Stop consuming, then write a last checkpoint. */
  close(): Promise<void>;
}

const DEFAULT_RECENT_IDS = 256;

/**
 * The audit ledger: the one writer of the hash chains, and of their checkpoints.
 *
 * Several processes write audit lines for one CR (change worker, gate worker, observer), so a
 * chain computed by the writers would fork. Instead this worker consumes `changegate.audit`,
 * which is keyed by CR number (or correlation id): one key lives on one partition, and one
 * partition is handled by one consumer in offset order — so each chain has exactly one writer
 * and one order. Each line is appended to `changegate.audit-ledger` (same key, never compacted)
 * as `{ key, seq, prevHash, hash, entry, sig }` (src/audit/chain.ts).
 *
 * Trust (src/audit/signing.ts): a line is chained only when it carries a valid writer signature
 * (added by the workers' bus, src/audit/signing-bus.ts); anything else produced to the audit
 * topic is dead-lettered, never chained. Each ledger record is signed, and on a schedule and at
 * shutdown a signed checkpoint of every chain's head goes to `changegate.audit-checkpoints`
 * (and, when configured, to a file meant for write-once storage), so `audit export` can tell a
 * shortened, deleted or rebuilt chain from an intact one (src/audit/checkpoint.ts).
 *
 * Invariants:
 * - The chain heads are restored from the ledger itself before consuming (signed records only:
 *   a record someone else produced to the ledger topic cannot move a head); the checkpoint
 *   numbering from the checkpoint topic. Nothing else is state.
 * - A line is appended, then its offset committed (the bus contract). A crash in between
 *   redelivers it; its entry id is then already in the restored ledger and it is not appended
 *   twice. Lines the writers repeat with a fresh id (a retried handler) are appended again:
 *   the ledger records what was written, it does not judge it.
 * - A line that is not an audit line, or not signed by a writer, is dead-lettered with the
 *   reason, never silently skipped.
 *
 * Run one replica (like the gate worker): heads are in memory, and a partition moving to a
 * replica that restored before the last appends would fork a chain.
 */
export async function startLedgerWorker({
  bus,
  config,
  key: auditKey,
  log: parent,
  groupId,
  recentIdsPerKey = DEFAULT_RECENT_IDS,
  clock = () => new Date(),
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
    { topic: topics.auditCheckpoints, partitions: 1, cleanup: 'delete', retentionMs: -1 },
  ]);
  let restored = 0;
  let ignored = 0;
  await bus.readToEnd(topics.auditLedger, (record) => {
    const parsed = LedgerRecordSchema.safeParse(parseJson(record.value));
    if (!parsed.success || recordSignatureProblem(auditKey, parsed.data)) {
      ignored += 1;
      return;
    }
    const r = parsed.data;
    // Keep the furthest head: a re-published copy of an old record must not rewind it.
    if ((heads.get(r.key)?.seq ?? 0) < r.seq) heads.set(r.key, { seq: r.seq, hash: r.hash });
    remember(r.key, r.entry.id);
    restored += 1;
  });
  if (ignored > 0)
    log.warn({ records: ignored }, 'ledger records without a valid signature ignored at restore');

  const written: Checkpoint[] = [];
  await bus.readToEnd(topics.auditCheckpoints, (record) => {
    const parsed = CheckpointSchema.safeParse(parseJson(record.value));
    if (parsed.success) written.push(parsed.data);
  });
  const folded = foldCheckpoints(auditKey, written);
  if (folded.problems.length > 0)
    log.error({ problems: folded.problems }, 'audit checkpoint topic does not verify');
  let last = folded.newest?.checkpoint;
  let lastHeads: ReadonlyMap<string, ChainHead> = folded.newest?.heads ?? new Map();
  log.info(
    { chains: heads.size, records: restored, checkpoint: last?.n ?? 0 },
    'audit ledger restored',
  );

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
    const where = { offset: record.offset, partition: record.partition };
    if (!verifyAuditLine(auditKey, record)) {
      await deadLetter(record, 'audit line without a valid writer signature: not from changegate');
      log.warn(where, 'unsigned audit line dead-lettered, not chained');
      return;
    }
    const raw = parseJson(record.value);
    const line = AuditLineSchema.safeParse(raw);
    if (!line.success) {
      await deadLetter(record, `not an audit line: ${line.error.issues[0]?.message ?? 'invalid'}`);
      log.warn(where, 'audit line dead-lettered');
      return;
    }
    // The raw object, not zod's copy: the hash covers exactly what the writer wrote.
    const entry = raw as typeof line.data;
    const key = entry.key;
    if (recent.get(key)?.includes(entry.id)) return;
    const next = link(key, heads.get(key), entry, auditKey);
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

  const moved = () =>
    heads.size !== lastHeads.size ||
    [...heads].some(
      ([k, h]) => lastHeads.get(k)?.seq !== h.seq || lastHeads.get(k)?.hash !== h.hash,
    );

  const writeFile = (c: Checkpoint, now: ReadonlyMap<string, ChainHead>) => {
    const file = config.audit.checkpointFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(fullCheckpoint(auditKey, c, now), null, 2)}\n`, {
      mode: 0o640,
    });
    renameSync(tmp, file); // atomic: a reader sees the old checkpoint or the new, never half
  };

  // One at a time: two checkpoints racing would both claim number n.
  let queue: Promise<unknown> = Promise.resolve();
  const checkpoint = (): Promise<Checkpoint | undefined> => {
    const run = queue.then(async () => {
      if (!moved()) return last;
      const now = new Map(heads);
      const c = makeCheckpoint(
        auditKey,
        {
          ledgerTopic: topics.auditLedger,
          n: (last?.n ?? 0) + 1,
          prev: last ? checkpointDigest(last) : GENESIS_HASH,
          at: clock(),
          heads: now,
          ...(last ? { since: lastHeads } : {}),
        },
        false,
      );
      await bus.publish([
        {
          topic: topics.auditCheckpoints,
          key: topics.auditLedger,
          value: Buffer.from(JSON.stringify(c)),
          headers: { 'content-type': 'application/json', 'changegate-checkpoint': String(c.n) },
        },
      ]);
      writeFile(c, now);
      last = c;
      lastHeads = now;
      log.info(
        { checkpoint: c.n, chains: c.chains, moved: c.heads.length },
        'audit checkpoint written',
      );
      return c;
    });
    queue = run.catch(() => undefined);
    return run;
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

  const timer = setInterval(() => {
    checkpoint().catch((err: unknown) =>
      log.warn({ err: coerceError(err).message }, 'audit checkpoint failed; next interval retries'),
    );
  }, config.audit.checkpointIntervalMs);
  timer.unref();

  return {
    heads: () => heads,
    checkpoint,
    close: async () => {
      clearInterval(timer);
      await subscription.close();
      await checkpoint().catch((err: unknown) =>
        log.error({ err: coerceError(err).message }, 'last audit checkpoint not written'),
      );
    },
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
