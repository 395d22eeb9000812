import { z } from 'zod';
import { link, type ChainHead, type LedgerRecord } from '../../audit/chain.js';
import type { AuditLine } from '../../audit/entry.js';
import type { AuditKey } from '../../audit/signing.js';

/**
 * The ledger worker's state of one chain (one key of the audit topic), as its changelog holds
 * it: the chain's head, the partition it lives on (so a checkpoint of one partition can pick its
 * chains out of all the replica holds) and the ids of its newest entries (a redelivered line is
 * not appended twice). Pure.
 *
 * @module
 */

export const ChainStateSchema = z.object({
  partition: z.number().int().nonnegative(),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  recent: z.array(z.string().min(1)),
});
export type ChainState = z.infer<typeof ChainStateSchema>;

export type AppendResult =
  { kind: 'repeat' } | { kind: 'append'; record: LedgerRecord; state: ChainState };

/**
 * Append `entry` to the chain `state` ends (none yet: a new chain), or say it is already there
 * (its id among the newest). The record is signed with the audit key.
 */
export function append(
  key: string,
  state: ChainState | undefined,
  entry: AuditLine,
  partition: number,
  auditKey: AuditKey,
  recentIds: number,
): AppendResult {
  if (state?.recent.includes(entry.id)) return { kind: 'repeat' };
  const record = link(key, state, entry, auditKey);
  return {
    kind: 'append',
    record,
    state: {
      partition,
      seq: record.seq,
      hash: record.hash,
      recent: [...(state?.recent ?? []), entry.id].slice(-recentIds),
    },
  };
}

export const headOf = (s: ChainState): ChainHead => ({ seq: s.seq, hash: s.hash });
