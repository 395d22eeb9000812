import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, type ChainHead, type LedgerPosition } from './chain.js';
import { signText, verifyText, type AuditKey } from './signing.js';

/**
 * Checkpoints of the audit ledger: signed statements "at this time, chain K ended at seq S with
 * hash H, for every K of ledger partition P, and these heads hash to this root". The chains
 * prove each entry follows the previous; a checkpoint proves how far each chain had got, which
 * the chains cannot prove about themselves — dropping a chain's newest entries, deleting a whole
 * chain, or rebuilding a chain from its first entry each leaves a ledger that verifies on its own.
 *
 * One checkpoint chain per ledger partition: the ledger worker runs as N replicas, each owning
 * some partitions, and only the owner of a partition knows its chains' heads — one chain of
 * checkpoints over the whole ledger would have N writers and fork. Partition P's checkpoints are
 * numbered 1, 2, 3… and link by digest (`prev`) to the one before, whoever wrote it (a new owner
 * reads the last one before it writes its first). The export folds each partition's chain and
 * combines them (every chain of every partition must reach what its partition's newest
 * checkpoint states; {@link combinedRoot} names the combination).
 *
 * On the checkpoint topic a checkpoint lists only the chains that moved since the previous one
 * of its partition (`full: false`), so records stay small however many chains there are; the
 * root always covers every chain of the partition. The checkpoint file holds, per partition, the
 * same checkpoint with every chain listed (`full: true`).
 *
 * @module
 */

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);

export const CheckpointHeadSchema = z.object({
  key: z.string().min(1),
  seq: z.number().int().positive(),
  hash: HEX64,
});

export const CheckpointSchema = z.object({
  type: z.literal('changegate.audit-checkpoint'),
  version: z.literal(2),
  /** The ledger topic it describes (information: the export is told which ledger to read). */
  ledgerTopic: z.string().min(1),
  /** The ledger partition whose chains it states. */
  partition: z.number().int().nonnegative(),
  /** 1, 2, 3, … in the order written, per partition. */
  n: z.number().int().positive(),
  at: z.string().min(1),
  /** Digest of the partition's checkpoint n − 1, or the genesis hash for n = 1. */
  prev: HEX64,
  /** Every chain listed (file) or only those that moved since n − 1 (topic). */
  full: z.boolean(),
  heads: z.array(CheckpointHeadSchema),
  /** How many chains the partition has in all. */
  chains: z.number().int().nonnegative(),
  /** sha256 over every chain's head of the partition, sorted by key. */
  root: HEX64,
  sig: z.string().min(1),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;
type Unsigned = Omit<Checkpoint, 'sig'>;

export type Heads = ReadonlyMap<string, ChainHead>;

const sortedHeads = (heads: Heads) =>
  [...heads]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, h]) => ({ key, seq: h.seq, hash: h.hash }));

/** The root over all chain heads. */
export function headsRoot(heads: Heads): string {
  return createHash('sha256')
    .update(canonicalJson(sortedHeads(heads)))
    .digest('hex');
}

const bodyText = (c: Unsigned) => canonicalJson(c);

/** What the next checkpoint's `prev` must be. */
export function checkpointDigest(c: Checkpoint): string {
  const { sig: _sig, ...body } = c;
  return createHash('sha256').update(bodyText(body)).digest('hex');
}

export interface CheckpointInput {
  ledgerTopic: string;
  partition: number;
  n: number;
  prev: string;
  at: Date;
  /** Every chain's head now. */
  heads: Heads;
  /** The heads at the previous checkpoint: only chains that differ are listed. Omit: all. */
  since?: Heads;
}

/** Build and sign a checkpoint; `full` lists every chain whatever `since` says. */
export function makeCheckpoint(key: AuditKey, input: CheckpointInput, full: boolean): Checkpoint {
  const all = sortedHeads(input.heads);
  const moved =
    full || !input.since
      ? all
      : all.filter((h) => {
          const before = input.since!.get(h.key);
          return before?.seq !== h.seq || before.hash !== h.hash;
        });
  const body: Unsigned = {
    type: 'changegate.audit-checkpoint',
    version: 2,
    ledgerTopic: input.ledgerTopic,
    partition: input.partition,
    n: input.n,
    at: input.at.toISOString(),
    prev: input.prev,
    full: full || !input.since,
    heads: moved,
    chains: all.length,
    root: headsRoot(input.heads),
  };
  return { ...body, sig: signText(key, 'checkpoint', bodyText(body)) };
}

/** One checkpoint the same as `c` with every chain listed: what the checkpoint file holds. */
export function fullCheckpoint(key: AuditKey, c: Checkpoint, heads: Heads): Checkpoint {
  return makeCheckpoint(
    key,
    {
      ledgerTopic: c.ledgerTopic,
      partition: c.partition,
      n: c.n,
      prev: c.prev,
      at: new Date(c.at),
      heads,
    },
    true,
  );
}

export function checkpointSignatureValid(key: AuditKey, c: Checkpoint): boolean {
  const { sig, ...body } = c;
  return verifyText(key, 'checkpoint', bodyText(body), sig);
}

/** The newest checkpoint of one partition that verified, and every chain's head as of it. */
export interface PartitionAnchor {
  checkpoint: Checkpoint;
  heads: Map<string, ChainHead>;
}

export interface FoldedCheckpoints {
  /** Per ledger partition. */
  newest: Map<number, PartitionAnchor>;
  problems: string[];
}

export const checkpointLabel = (c: Checkpoint) =>
  `checkpoint #${c.n} of partition ${c.partition} (${c.at})`;

/**
 * Verify the checkpoints of the topic in order and fold each partition's into the heads they
 * state. A checkpoint whose signature does not verify is reported and passed over (anyone who
 * can produce to the topic can add one; it must not stop the fold). A partition's fold stops at
 * its first signed checkpoint that does not fit (numbering, link to the previous, root): what
 * follows it cannot be trusted either. The other partitions go on.
 */
export function foldCheckpoints(
  key: AuditKey,
  checkpoints: readonly Checkpoint[],
): FoldedCheckpoints {
  const newest = new Map<number, PartitionAnchor>();
  const stopped = new Set<number>();
  const problems: string[] = [];
  for (const c of checkpoints) {
    if (stopped.has(c.partition)) continue;
    const previous = newest.get(c.partition);
    const expectedN = (previous?.checkpoint.n ?? 0) + 1;
    const expectedPrev = previous ? checkpointDigest(previous.checkpoint) : GENESIS_HASH;
    if (!checkpointSignatureValid(key, c)) {
      problems.push(`${checkpointLabel(c)}: signature does not verify`);
      continue;
    }
    let problem: string | undefined;
    if (c.n !== expectedN) problem = `numbered ${c.n} where ${expectedN} was expected`;
    else if (c.prev !== expectedPrev) problem = 'does not link to the checkpoint before it';
    if (!problem) {
      const next = c.full ? new Map<string, ChainHead>() : new Map(previous?.heads);
      for (const h of c.heads) next.set(h.key, { seq: h.seq, hash: h.hash });
      if (next.size === c.chains && headsRoot(next) === c.root) {
        newest.set(c.partition, { checkpoint: c, heads: next });
        continue;
      }
      problem = 'its heads do not add up to its root';
    }
    problems.push(`${checkpointLabel(c)}: ${problem}`);
    stopped.add(c.partition);
  }
  return { newest, problems };
}

/**
 * A full checkpoint (the file's) checked on its own: signature, and its heads adding up to its
 * root. Undefined when it holds; the problem otherwise.
 */
export function fullCheckpointProblem(key: AuditKey, c: Checkpoint): string | undefined {
  if (!checkpointSignatureValid(key, c)) return `${checkpointLabel(c)}: signature does not verify`;
  const heads = new Map(c.heads.map((h) => [h.key, { seq: h.seq, hash: h.hash }]));
  if (!c.full || heads.size !== c.chains || headsRoot(heads) !== c.root)
    return `${checkpointLabel(c)}: its heads do not add up to its root`;
  return undefined;
}

/**
 * One digest over the newest checkpoint of every partition: what "the ledger as of these
 * checkpoints" is, to quote in a report or compare two exports by.
 */
export function combinedRoot(anchors: ReadonlyMap<number, PartitionAnchor>): string {
  const parts = [...anchors.values()]
    .map(({ checkpoint: c }) => ({ partition: c.partition, n: c.n, root: c.root }))
    .sort((a, b) => a.partition - b.partition);
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

/**
 * The checkpoint file: per partition, the newest full checkpoint its writer knows. Each replica
 * of the ledger worker writes its own (it knows only the partitions it owned); the export takes
 * any number of them and keeps, per partition, the newest that verifies.
 */
export const CheckpointFileSchema = z.object({
  type: z.literal('changegate.audit-checkpoint-file'),
  version: z.literal(2),
  checkpoints: z.array(CheckpointSchema),
});
export type CheckpointFile = z.infer<typeof CheckpointFileSchema>;

export function checkpointFile(checkpoints: Iterable<Checkpoint>): CheckpointFile {
  return {
    type: 'changegate.audit-checkpoint-file',
    version: 2,
    checkpoints: [...checkpoints].sort((a, b) => a.partition - b.partition),
  };
}

/** Per partition, the checkpoint with the highest number (the files' union). */
export function newestPerPartition(checkpoints: Iterable<Checkpoint>): Map<number, Checkpoint> {
  const out = new Map<number, Checkpoint>();
  for (const c of checkpoints) {
    if ((out.get(c.partition)?.n ?? 0) < c.n) out.set(c.partition, c);
  }
  return out;
}

/** A ledger record as the comparison needs it. */
export interface ChainRecord {
  key: string;
  seq: number;
  hash: string;
  at?: LedgerPosition;
}

export interface CheckpointMismatch {
  key: string;
  seq: number;
  at?: LedgerPosition;
  reason: string;
}

/**
 * Compare the ledger with a checkpoint: every chain the checkpoint names must still be there,
 * reach at least its seq, and carry its hash at that seq. Chains newer than the checkpoint,
 * and entries past it, are fine: the ledger only grows.
 */
export function compareWithCheckpoint(
  records: readonly ChainRecord[],
  anchor: Heads,
  label: string,
): CheckpointMismatch[] {
  const byKey = new Map<string, Map<number, ChainRecord>>();
  for (const r of records) {
    let chain = byKey.get(r.key);
    if (!chain) byKey.set(r.key, (chain = new Map()));
    if (!chain.has(r.seq)) chain.set(r.seq, r);
  }
  const out: CheckpointMismatch[] = [];
  for (const [key, head] of [...anchor].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const chain = byKey.get(key);
    if (!chain) {
      out.push({
        key,
        seq: 1,
        reason: `chain deleted: ${label} records ${head.seq} entries, the ledger has none`,
      });
      continue;
    }
    const last = Math.max(...chain.keys());
    if (last < head.seq) {
      out.push({
        key,
        seq: last + 1,
        reason: `chain truncated: ends at seq ${last}, ${label} records seq ${head.seq}`,
      });
      continue;
    }
    const atHead = chain.get(head.seq);
    if (!atHead || atHead.hash !== head.hash) {
      out.push({
        key,
        seq: head.seq,
        ...(atHead?.at ? { at: atHead.at } : {}),
        reason: `chain rewritten: seq ${head.seq} does not carry the hash ${label} records`,
      });
    }
  }
  return out;
}
