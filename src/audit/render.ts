import type { ChainBreak } from './chain.js';
import type { LineageRow } from './lineage.js';

/**
 * The two export formats: JSON (one document: the verdict, the chains, the rows) and CSV (RFC
 * 4180: a header row, CRLF line ends, fields quoted when they hold a comma, quote or line end).
 *
 * @module
 */

export const CSV_COLUMNS = [
  'at',
  'changeNumber',
  'correlationId',
  'actor',
  'action',
  'reason',
  'callback',
  'key',
  'seq',
  'entryId',
  'hash',
  'detail',
] as const;

function csvField(value: string): string {
  // A leading =, +, - or @ would be a formula to a spreadsheet: the ledger holds input from CI.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function renderCsv(rows: readonly LineageRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      CSV_COLUMNS.map((c) =>
        csvField(c === 'detail' ? JSON.stringify(row.detail) : String(row[c])),
      ).join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface ExportDocument {
  selector: Record<string, string>;
  verified: boolean;
  broken?: ChainBreak;
  chains: { key: string; entries: number; head: string }[];
  entries: LineageRow[];
}

export function renderJson(doc: ExportDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
