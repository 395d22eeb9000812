import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, type ChainHead, type LedgerPosition } from './chain.js';
import { signText, verifyText, type AuditKey } from './signing.js';

/**
 * Checkpoints of the audit ledger: signed statements "at this time, chain K ended at seq S with
 * hash H, for every K, and these heads hash to this root". The chains prove each entry follows
 * the previous; a checkpoint proves how far each chain had got, which the chains cannot prove
 * about themselves — dropping a chain's newest entries, deleting a whole chain, or rebuilding
 * a chain from its first entry each leaves a ledger that verifies on its own.
 *
 * On the checkpoint topic a checkpoint lists only the chains that moved since the previous one
 * (`full: false`) and links to it by digest (`prev`), so records stay small however many chains
 * there are; the root always covers every chain. The checkpoint file holds the same checkpoint
 * with every chain listed (`full: true`).
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
  version: z.literal(1),
  /** The ledger topic it describes (information: the export is told which ledger to read). */
  ledgerTopic: z.string().min(1),
  /** 1, 2, 3, … in the order written. */
  n: z.number().int().positive(),
  at: z.string().min(1),
  /** Digest of checkpoint n − 1, or the genesis hash for n = 1. */
  prev: HEX64,
  /** Every chain listed (file) or only those that moved since n − 1 (topic). */
  full: z.boolean(),
  heads: z.array(CheckpointHeadSchema),
  /** How many chains exist in all. */
  chains: z.number().int().nonnegative(),
  /** sha256 over every chain's head, sorted by key. */
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
    version: 1,
    ledgerTopic: input.ledgerTopic,
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
    { ledgerTopic: c.ledgerTopic, n: c.n, prev: c.prev, at: new Date(c.at), heads },
    true,
  );
}

export function checkpointSignatureValid(key: AuditKey, c: Checkpoint): boolean {
  const { sig, ...body } = c;
  return verifyText(key, 'checkpoint', bodyText(body), sig);
}

export interface FoldedCheckpoints {
  /** The newest checkpoint that verified, and every chain's head as of it. */
  newest?: { checkpoint: Checkpoint; heads: Map<string, ChainHead> };
  problems: string[];
}

/**
 * Verify the checkpoints of the topic in order and fold them into the heads they state.
 * Stops at the first that does not verify (signature, link to the previous, numbering, root):
 * what follows it cannot be trusted either.
 */
export function foldCheckpoints(
  key: AuditKey,
  checkpoints: readonly Checkpoint[],
): FoldedCheckpoints {
  const heads = new Map<string, ChainHead>();
  let previous: Checkpoint | undefined;
  const problems: string[] = [];
  for (const c of checkpoints) {
    const label = `checkpoint #${c.n} (${c.at})`;
    const expectedN = (previous?.n ?? 0) + 1;
    const expectedPrev = previous ? checkpointDigest(previous) : GENESIS_HASH;
    let problem: string | undefined;
    if (!checkpointSignatureValid(key, c)) problem = 'signature does not verify';
    else if (c.n !== expectedN) problem = `numbered ${c.n} where ${expectedN} was expected`;
    else if (c.prev !== expectedPrev) problem = 'does not link to the checkpoint before it';
    if (!problem) {
      const next = c.full ? new Map<string, ChainHead>() : new Map(heads);
      for (const h of c.heads) next.set(h.key, { seq: h.seq, hash: h.hash });
      if (next.size !== c.chains || headsRoot(next) !== c.root)
        problem = 'its heads do not add up to its root';
      else {
        heads.clear();
        for (const [k, v] of next) heads.set(k, v);
        previous = c;
        continue;
      }
    }
    problems.push(`${label}: ${problem}`);
    break;
  }
  return {
    ...(previous ? { newest: { checkpoint: previous, heads } } : {}),
    problems,
  };
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
