import type { ChainHead } from '../../audit/chain.js';
import type { Checkpoint } from '../../audit/checkpoint.js';
import { AuditLineSchema, type AuditLine } from '../../audit/entry.js';
import { verifyAuditLine, type AuditKey } from '../../audit/signing.js';
import type { Bus, ConsumedRecord } from '../../bus/port.js';
import type { Config } from '../../config/schema.js';
import { coerceError, PayloadError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { createCheckpointWriter } from './checkpoints.js';
import { changelogRecords, headsFromLedger } from './legacy.js';
import { append, ChainStateSchema, headOf, type ChainState } from './state.js';
import {
  createStatefulProcessor,
  type StatefulProcessor,
  type TaskContext,
} from '../stateful/index.js';
import { recordJson } from './record-json.js';

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
  /** The end of every chain on this replica's partitions: key → last seq and hash. */
  heads(): ReadonlyMap<string, ChainHead>;
  /** The audit-topic partitions this replica owns and has restored. */
  partitions(): number[];
  /**
   * Write a checkpoint now for every partition this replica owns whose chains moved since its
   * last one (the schedule and revocation do too); resolves with those written.
   */
  checkpoint(): Promise<Checkpoint[]>;
  /** Stop consuming; the partitions' last checkpoints are written as they are given up. */
  close(): Promise<void>;
}

const DEFAULT_RECENT_IDS = 256;

/** The changelog of the chain heads: co-partitioned with the audit topic, compacted. */
export const ledgerHeadsTopic = (ledgerTopic: string) => `${ledgerTopic}-heads`;

/**
 * The audit ledger: the one writer of the hash chains, and of their checkpoints, as N replicas.
 *
 * Several processes write audit lines for one CR (change worker, gate worker, observer), so a
 * chain computed by the writers would fork. Instead this worker consumes `changegate.audit`,
 * keyed by CR number (or correlation id): one key lives on one partition, and one partition is
 * one task of one replica (the state kit, src/workers/stateful), handled in offset order — so
 * each chain has exactly one writer and one order at a time. Each line is appended to
 * `changegate.audit-ledger` on the same partition as `{ key, seq, prevHash, hash, entry, sig }`
 * (src/audit/chain.ts); the chain's new head is then saved to the heads changelog
 * (`<ledger>-heads`), from which a replica taking the partition over restores it.
 *
 * Trust (src/audit/signing.ts): a line is chained only when it carries a valid writer signature
 * (added by the workers' bus, src/audit/signing-bus.ts); anything else produced to the audit
 * topic is dead-lettered, never chained. Each ledger record is signed; per partition, on a
 * schedule and when the partition is given up (rebalance, shutdown), a signed checkpoint of its
 * chains' heads goes to `changegate.audit-checkpoints` and, when configured, to this replica's
 * checkpoint file (ledger/checkpoints.ts), so `audit export` can tell a shortened, deleted or
 * rebuilt chain from an intact one.
 *
 * Invariants:
 * - The ledger record is published before the head that says it was (the kit publishes what a
 *   handler emits before its state). A crash in between redelivers the line, which is appended
 *   again from the same head: byte for byte the same record (same seq, hash and HMAC), which the
 *   export counts as a repeat, not a fork. A line redelivered after its head was saved is
 *   recognised by its entry id and not appended again. Lines the writers repeat with a fresh id
 *   (a retried handler) are appended again: the ledger records what was written.
 * - A line that is not an audit line, or not signed by a writer, is dead-lettered with the
 *   reason, never silently skipped.
 * - A checkpoint states only heads already in the changelog (memory changes after it), so it
 *   never claims more than a restore gives back.
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

  await bus.ensureTopics([
    { topic: topics.auditLedger, partitions, cleanup: 'delete', retentionMs: -1 },
    { topic: topics.auditCheckpoints, partitions: 1, cleanup: 'delete', retentionMs: -1 },
  ]);

  const changelog = ledgerHeadsTopic(topics.auditLedger);
  // Set once the processor runs; records may reach the handler before that.
  const started: { processor?: StatefulProcessor<ChainState> } = {};

  // Per partition since its assignment: chains the changelog had no head for, read from the
  // ledger itself (ledger/legacy.ts). Checked once per assignment, and only when the changelog
  // gave the partition no chain at all: a partition with chains has every chain's head.
  const legacy = new Map<number, Promise<Map<string, ChainState>>>();
  /** The same, once read: their heads are the partition's too, for its checkpoints. */
  const legacyRead = new Map<number, ReadonlyMap<string, ChainState>>();
  const legacyHeads = (ctx: TaskContext<ChainState>) => {
    const { partition } = ctx;
    let found = legacy.get(partition);
    if (!found) {
      found = (async () => {
        const known = started.processor?.entries().some(([, s]) => s.partition === partition);
        if (known) return new Map<string, ChainState>();
        const heads = await headsFromLedger(
          bus,
          topics.auditLedger,
          partition,
          auditKey,
          recentIdsPerKey,
        );
        if (heads.size > 0) {
          await ctx.publish(changelogRecords(changelog, heads));
          log.info({ partition, chains: heads.size }, 'chain heads read back from the ledger');
        }
        if (legacy.get(partition) === found) legacyRead.set(partition, heads);
        return heads;
      })();
      legacy.set(partition, found);
      found.catch(() => legacy.delete(partition));
    }
    return found;
  };

  const decode = (record: ConsumedRecord): AuditLine => {
    if (!verifyAuditLine(auditKey, record)) {
      throw new PayloadError(
        'unsigned_audit_line',
        'audit line without a valid writer signature: not from changegate',
      );
    }
    const raw = recordJson(record.value);
    const line = AuditLineSchema.safeParse(raw);
    if (!line.success) {
      throw new PayloadError(
        'not_an_audit_line',
        `not an audit line: ${line.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    if (line.data.key !== record.key) {
      throw new PayloadError(
        'misfiled_audit_line',
        `audit line for ${line.data.key} on a record keyed ${record.key}`,
      );
    }
    // The raw object, not zod's copy: the hash covers exactly what the writer wrote.
    return raw as AuditLine;
  };

  // The checkpoints hear of partition moves from the kit: a revoked partition's heads are taken
  // before the kit fences its task, and its last checkpoint is written from them.
  let onRevoking: (partitions: number[]) => Promise<void> = () => Promise.resolve();
  let onAssigned: (partitions: number[]) => void = () => undefined;

  const running = await createStatefulProcessor({
    bus,
    onTasksAssigned: (ps) => onAssigned(ps),
    onTasksRevoking: (ps) => onRevoking(ps),
    name: 'audit-ledger',
    groupId: groupId ?? `${groupPrefix}-audit-ledger`,
    input: topics.audit,
    changelog,
    partitions,
    schema: ChainStateSchema,
    dlqTopic: topics.dlq,
    log,
    decode,
    handle: async (key, state, entry, ctx) => {
      const head = state ?? (await legacyHeads(ctx)).get(key);
      const step = append(key, head, entry, ctx.partition, auditKey, recentIdsPerKey);
      if (step.kind === 'repeat') return {};
      return {
        emit: [
          {
            topic: topics.auditLedger,
            key,
            value: Buffer.from(JSON.stringify(step.record)),
            headers: {
              'content-type': 'application/json',
              'changegate-audit-action': entry.action,
              'changegate-ledger-seq': String(step.record.seq),
            },
            // Co-partitioned with the audit topic, whatever the ledger's partitioner would pick.
            toPartition: ctx.partition,
          },
        ],
        state: step.state,
      };
    },
  });
  started.processor = running;

  const chainsOf = (partition: number): Map<string, ChainHead> | undefined => {
    if (!running.partitions().includes(partition)) return undefined;
    const out = new Map<string, ChainHead>();
    // Chains read back from the ledger and not appended to since: heads too.
    for (const [k, s] of legacyRead.get(partition) ?? []) out.set(k, headOf(s));
    for (const [k, s] of running.entries()) if (s.partition === partition) out.set(k, headOf(s));
    return out;
  };
  const checkpoints = createCheckpointWriter({
    bus,
    ledgerTopic: topics.auditLedger,
    checkpointTopic: topics.auditCheckpoints,
    key: auditKey,
    log,
    clock,
    ...(config.audit.checkpointFile ? { file: config.audit.checkpointFile } : {}),
    headsOf: chainsOf,
  });
  onAssigned = (mine) => {
    checkpoints.forget(mine);
    for (const p of mine) {
      legacy.delete(p);
      legacyRead.delete(p);
    }
  };
  onRevoking = async (mine) => {
    const heads = new Map<number, Map<string, ChainHead>>();
    for (const p of mine) {
      const chains = chainsOf(p);
      if (chains) heads.set(p, chains);
    }
    await checkpoints.write(mine, heads);
  };

  const timer = setInterval(() => {
    checkpoints
      .write(running.partitions())
      .catch((err: unknown) =>
        log.warn(
          { err: coerceError(err).message },
          'audit checkpoint failed; next interval retries',
        ),
      );
  }, config.audit.checkpointIntervalMs);
  timer.unref();
  log.info({ changelog: ledgerHeadsTopic(topics.auditLedger) }, 'audit ledger running');

  return {
    heads: () => new Map(running.entries().map(([k, s]: [string, ChainState]) => [k, headOf(s)])),
    partitions: () => running.partitions(),
    checkpoint: () => checkpoints.write(running.partitions()),
    close: async () => {
      clearInterval(timer);
      await running.close();
    },
  };
}
