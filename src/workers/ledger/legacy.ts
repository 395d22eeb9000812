import { LedgerRecordSchema, recordSignatureProblem } from '../../audit/chain.js';
import type { AuditKey } from '../../audit/signing.js';
import type { Bus, BusRecord } from '../../bus/port.js';
import { encodeEntry } from '../stateful/changelog.js';
import type { ChainState } from './state.js';

/**
 * Chains with no head in the changelog: those written before the heads changelog existed (a
 * ledger worker that kept its heads in memory and read the whole ledger at start), or after the
 * changelog was lost. Their heads are read back from the ledger partition itself — signed
 * records only, so a record someone else produced to the ledger topic cannot move a head — and
 * written to the changelog, so the next owner of the partition restores them like any other.
 * Without this, such a chain would start again at seq 1 and fork.
 *
 * @module
 */

/** The heads of ledger partition `partition`, as its signed records state them. */
export async function headsFromLedger(
  bus: Pick<Bus, 'readPartitionsToEnd'>,
  ledgerTopic: string,
  partition: number,
  key: AuditKey,
  recentIds: number,
): Promise<Map<string, ChainState>> {
  const heads = new Map<string, ChainState>();
  await bus.readPartitionsToEnd(ledgerTopic, [partition], (record) => {
    let value: unknown;
    try {
      value = JSON.parse(record.value?.toString('utf8') ?? 'null');
    } catch {
      return;
    }
    const parsed = LedgerRecordSchema.safeParse(value);
    if (!parsed.success || recordSignatureProblem(key, parsed.data)) return;
    const r = parsed.data;
    const before = heads.get(r.key);
    // Keep the furthest head: a re-published copy of an old record must not rewind it.
    if ((before?.seq ?? 0) >= r.seq) return;
    heads.set(r.key, {
      partition,
      seq: r.seq,
      hash: r.hash,
      recent: [...(before?.recent ?? []), r.entry.id].slice(-recentIds),
    });
  });
  return heads;
}

/** The changelog records that give these chains their heads (the state kit's format). */
export function changelogRecords(
  changelog: string,
  heads: ReadonlyMap<string, ChainState>,
): BusRecord[] {
  return [...heads].map(([k, state]) => ({
    topic: changelog,
    key: k,
    value: encodeEntry({ state, timers: {} }),
    headers: { 'content-type': 'application/json' },
    toPartition: state.partition,
  }));
}
