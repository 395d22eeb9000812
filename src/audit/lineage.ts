import type { StoredLedgerRecord } from './chain.js';

/**
 * Which ledger records tell the story of one deployment, and in what order.
 *
 * Audit lines are keyed by CR number once a CR exists and by correlation id before (and for
 * what never gets one), so one deployment's lineage spans a few chains: the CR's, and the
 * correlation ids its lines name. Selection follows those links one step; ordering is by the
 * time the entry states, then by chain order.
 *
 * @module
 */

export type LineageSelector = { change: string } | { correlation: string } | { since: Date };

/** The keys whose chains belong to the selection. */
export function selectKeys(
  records: readonly StoredLedgerRecord[],
  selector: LineageSelector,
): Set<string> {
  const keys = new Set<string>();
  if ('change' in selector) {
    keys.add(selector.change);
    for (const r of records) {
      if (r.key === selector.change && r.entry.correlationId) keys.add(r.entry.correlationId);
    }
  } else if ('correlation' in selector) {
    keys.add(selector.correlation);
    for (const r of records) if (r.entry.correlationId === selector.correlation) keys.add(r.key);
  } else {
    const since = selector.since.getTime();
    for (const r of records) if (Date.parse(r.entry.at) >= since) keys.add(r.key);
  }
  for (const key of [...keys]) if (!records.some((r) => r.key === key)) keys.delete(key);
  return keys;
}

/** The records of `keys`, ordered by entry time, then chain (seq) order; `since` trims them. */
export function lineage(
  records: readonly StoredLedgerRecord[],
  keys: ReadonlySet<string>,
  since?: Date,
): StoredLedgerRecord[] {
  const from = since?.getTime() ?? -Infinity;
  return records
    .filter((r) => keys.has(r.key) && Date.parse(r.entry.at) >= from)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => Date.parse(a.r.entry.at) - Date.parse(b.r.entry.at) || a.i - b.i)
    .map(({ r }) => r);
}

/** One row of the compliance record: who, what, why, when, which CR, what the CI system said. */
export interface LineageRow {
  at: string;
  key: string;
  seq: number;
  actor: string;
  action: string;
  reason: string;
  changeNumber: string;
  correlationId: string;
  callback: string;
  detail: Record<string, unknown>;
  entryId: string;
  hash: string;
}

const CHANGE_NUMBER = /^[A-Z]{2,6}\d{5,}$/;

export function toRow(r: StoredLedgerRecord): LineageRow {
  const detail = r.entry.detail ?? {};
  const callback = detail.callback as { status?: unknown; httpStatus?: unknown } | undefined;
  const fromDetail = typeof detail.changeNumber === 'string' ? detail.changeNumber : '';
  return {
    at: r.entry.at,
    key: r.key,
    seq: r.seq,
    actor: r.entry.actor,
    action: r.entry.action,
    reason: r.entry.reason ?? '',
    changeNumber: CHANGE_NUMBER.test(r.key) ? r.key : fromDetail,
    correlationId: r.entry.correlationId ?? '',
    callback:
      callback && typeof callback.status === 'string'
        ? `${callback.status}${typeof callback.httpStatus === 'number' ? ` (HTTP ${callback.httpStatus})` : ''}`
        : '',
    detail,
    entryId: r.entry.id,
    hash: r.hash,
  };
}
