import type { Bus } from '../bus/port.js';
import {
  LedgerRecordSchema,
  describeBreak,
  verifyChains,
  type ChainBreak,
  type StoredLedgerRecord,
} from '../audit/chain.js';
import {
  lineage,
  selectKeys,
  toRow,
  type LineageRow,
  type LineageSelector,
} from '../audit/lineage.js';
import { renderCsv, renderJson } from '../audit/render.js';

export interface AuditExportOptions {
  bus: Pick<Bus, 'readToEnd'>;
  /** The ledger topic (`kafka.topics.auditLedger`): the export reads nothing else. */
  ledgerTopic: string;
  selector: LineageSelector;
  format: 'json' | 'csv';
  /** stdout: the record itself. */
  write: (text: string) => void;
  /** stderr: the verdict. */
  warn: (text: string) => void;
}

export interface AuditExportResult {
  /** 0 verified, 1 a chain does not verify, 3 nothing matches the selection. */
  exitCode: 0 | 1 | 3;
  rows: LineageRow[];
  broken?: ChainBreak;
}

/**
 * `changegate audit export`: read the audit ledger from the beginning, pick the chains of one CR,
 * one correlation id, or everything since a time, verify those chains from their first entry,
 * and print the lineage as a compliance record. A chain that does not verify is printed all the
 * same (the reader sees what was there) and the export fails naming the first broken entry.
 *
 * @example await auditExport({ bus, ledgerTopic, selector: { change: 'CHG0010001' }, format: 'csv', write, warn })
 */
export async function auditExport({
  bus,
  ledgerTopic,
  selector,
  format,
  write,
  warn,
}: AuditExportOptions): Promise<AuditExportResult> {
  const records: StoredLedgerRecord[] = [];
  const unreadable: ChainBreak[] = [];
  await bus.readToEnd(ledgerTopic, (record) => {
    const at = { partition: record.partition, offset: record.offset };
    let parsed;
    try {
      parsed = LedgerRecordSchema.safeParse(JSON.parse(record.value?.toString('utf8') ?? 'null'));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) records.push({ ...parsed.data, at });
    else if (record.key)
      unreadable.push({ key: record.key, seq: 0, at, reason: 'not a ledger record' });
  });

  const keys = selectKeys(records, selector);
  const rows = lineage(records, keys, 'since' in selector ? selector.since : undefined).map(toRow);
  const chained = records.filter((r) => keys.has(r.key));
  const broken = unreadable.find((u) => keys.has(u.key)) ?? verifyChains(chained);
  const chains = [...keys].map((key) => {
    const own = chained.filter((r) => r.key === key);
    return { key, entries: own.length, head: own.at(-1)?.hash ?? '' };
  });

  if (format === 'csv') write(renderCsv(rows));
  else {
    write(
      renderJson({
        selector: Object.fromEntries(
          Object.entries(selector).map(([k, v]) => [
            k,
            v instanceof Date ? v.toISOString() : String(v),
          ]),
        ),
        verified: !broken,
        ...(broken ? { broken } : {}),
        chains,
        entries: rows,
      }),
    );
  }
  if (rows.length === 0) {
    warn('changegate audit export: no ledger entries match the selection\n');
    return { exitCode: 3, rows };
  }
  if (broken) {
    warn(`changegate audit export: chain does not verify at ${describeBreak(broken)}\n`);
    return { exitCode: 1, rows, broken };
  }
  warn(
    `changegate audit export: ${rows.length} entries in ${chains.length} chain(s), every hash verifies\n`,
  );
  return { exitCode: 0, rows };
}
