import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { AuditLineSchema, type AuditLine } from './entry.js';
import { signText, verifyText, type AuditKey } from './signing.js';

/**
 * The hash chain of the audit ledger. Every ledger record links to the previous one of the same
 * key (CR number or correlation id):
 *
 *   hash = sha256(prevHash + canonicalJson({ key, seq, entry }))
 *
 * The hash covers the key and the sequence number as well as the entry, so moving an entry to
 * another CR, renumbering, dropping or reordering entries all break the chain — not only editing
 * one. The first record of a key has seq 1 and links to {@link GENESIS_HASH}.
 *
 * @module
 */

export const GENESIS_HASH = '0'.repeat(64);

export const LedgerRecordSchema = z.object({
  key: z.string().min(1),
  seq: z.number().int().positive(),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  entry: AuditLineSchema,
  /** The ledger worker's signature over key, seq, prevHash and hash (signing.ts). */
  sig: z.string().optional(),
});
/** The value of one `changegate.audit-ledger` record. */
export type LedgerRecord = z.infer<typeof LedgerRecordSchema>;

/** The end of one key's chain: what the next record links to. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The hash a ledger record must carry. */
export function chainHash(prevHash: string, key: string, seq: number, entry: AuditLine): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson({ key, seq, entry }))
    .digest('hex');
}

/**
 * The record that appends `entry` to the chain whose end is `head` (none yet: a new chain),
 * signed with the audit key. The signature covers the link (key, seq, prevHash, hash) and
 * through the hash the entry: without the key, no one can write a record that verifies.
 */
export function link(
  key: string,
  head: ChainHead | undefined,
  entry: AuditLine,
  auditKey: AuditKey,
): LedgerRecord {
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const hash = chainHash(prevHash, key, seq, entry);
  return {
    key,
    seq,
    prevHash,
    hash,
    entry,
    sig: recordSignature(auditKey, { key, seq, prevHash, hash }),
  };
}

type Link = Pick<LedgerRecord, 'key' | 'seq' | 'prevHash' | 'hash'>;
const linkText = ({ key, seq, prevHash, hash }: Link) =>
  canonicalJson({ key, seq, prevHash, hash });

export function recordSignature(auditKey: AuditKey, record: Link): string {
  return signText(auditKey, 'record', linkText(record));
}

/** Why a record's signature does not hold, or undefined when it does. */
export function recordSignatureProblem(
  auditKey: AuditKey,
  record: LedgerRecord,
): string | undefined {
  if (record.sig === undefined) return 'unsigned ledger record (not written by the ledger worker)';
  if (!verifyText(auditKey, 'record', linkText(record), record.sig))
    return 'signature does not verify (written or altered without the audit key)';
  return undefined;
}

/** Where a ledger record was read from, to name it in a verification failure. */
export interface LedgerPosition {
  partition: number;
  offset: string;
}

export type StoredLedgerRecord = LedgerRecord & { at?: LedgerPosition };

export interface ChainBreak {
  key: string;
  seq: number;
  entryId?: string;
  at?: LedgerPosition;
  reason: string;
}

/**
 * Verify the chains of the given keys, records in ledger (offset) order.
 * @returns the first break in ledger order, or undefined when every chain verifies.
 */
export function verifyChains(records: readonly StoredLedgerRecord[]): ChainBreak | undefined {
  const heads = new Map<string, ChainHead>();
  for (const r of records) {
    const head = heads.get(r.key);
    const expectedSeq = (head?.seq ?? 0) + 1;
    const expectedPrev = head?.hash ?? GENESIS_HASH;
    const where = { key: r.key, seq: r.seq, entryId: r.entry.id, ...(r.at ? { at: r.at } : {}) };
    if (r.entry.key !== r.key) {
      return { ...where, reason: `entry key ${r.entry.key} is filed under ${r.key}` };
    }
    if (r.seq !== expectedSeq) {
      return { ...where, reason: `sequence ${r.seq} where ${expectedSeq} was expected` };
    }
    if (r.prevHash !== expectedPrev) {
      return { ...where, reason: 'prevHash does not match the hash of the previous entry' };
    }
    if (chainHash(r.prevHash, r.key, r.seq, r.entry) !== r.hash) {
      return { ...where, reason: 'hash does not match the entry (the entry was altered)' };
    }
    heads.set(r.key, { seq: r.seq, hash: r.hash });
  }
  return undefined;
}

/** "CHG0010001 seq 3 (entry 5f…, ledger partition 2 offset 17): hash does not match …" */
export function describeBreak(b: ChainBreak): string {
  const where = [
    b.entryId ? `entry ${b.entryId}` : undefined,
    b.at ? `ledger partition ${b.at.partition} offset ${b.at.offset}` : undefined,
  ].filter(Boolean);
  return `${b.key} seq ${b.seq}${where.length ? ` (${where.join(', ')})` : ''}: ${b.reason}`;
}

/**
 * The ledger without byte-for-byte repeats: a record equal in key, seq, prevHash and hash to the
 * record before it in its chain. The ledger worker appends a line and then saves the chain's new
 * head; a crash in between redelivers the line, which is appended again from the same head —
 * the same record (HMAC signatures are deterministic), not a fork: it carries nothing the first
 * did not. Anything else out of order stays, for {@link verifyChains} to report.
 */
export function dropRepeats<R extends LedgerRecord>(
  records: readonly R[],
): { records: R[]; repeats: R[] } {
  const last = new Map<string, LedgerRecord>();
  const kept: R[] = [];
  const repeats: R[] = [];
  for (const r of records) {
    const before = last.get(r.key);
    if (
      before &&
      before.seq === r.seq &&
      before.hash === r.hash &&
      before.prevHash === r.prevHash &&
      before.sig === r.sig &&
      chainHash(r.prevHash, r.key, r.seq, r.entry) === r.hash
    ) {
      repeats.push(r);
      continue;
    }
    last.set(r.key, r);
    kept.push(r);
  }
  return { records: kept, repeats };
}
