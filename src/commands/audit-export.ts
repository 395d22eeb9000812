import { readFileSync } from 'node:fs';
import {
  CheckpointSchema,
  checkpointSignatureValid,
  compareWithCheckpoint,
  foldCheckpoints,
  headsRoot,
  type Checkpoint,
} from '../audit/checkpoint.js';
import {
  LedgerRecordSchema,
  describeBreak,
  recordSignatureProblem,
  verifyChains,
  type ChainBreak,
  type ChainHead,
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
import type { AuditKey } from '../audit/signing.js';
import type { Bus } from '../bus/port.js';

export interface AuditExportOptions {
  bus: Pick<Bus, 'readToEnd'>;
  /** The ledger topic (`kafka.topics.auditLedger`). */
  ledgerTopic: string;
  /** The checkpoint topic (`kafka.topics.auditCheckpoints`): its newest checkpoint is the anchor. */
  checkpointTopic?: string;
  /** A checkpoint file (from write-once storage): the anchor instead of the topic's. */
  checkpointFile?: string;
  /** The audit key: verifies ledger records and checkpoints. */
  key: AuditKey;
  selector: LineageSelector;
  format: 'json' | 'csv';
  /** stdout: the record itself. */
  write: (text: string) => void;
  /** stderr: the verdict. */
  warn: (text: string) => void;
}

export interface AuditExportResult {
  /** 0 verified, 1 the ledger does not verify, 3 nothing matches the selection. */
  exitCode: 0 | 1 | 3;
  rows: LineageRow[];
  /** The first problem found. */
  broken?: ChainBreak;
  /** Every problem found: chain, position, what is wrong. */
  problems: ChainBreak[];
  /** The checkpoint the ledger was compared with. */
  checkpoint?: { n: number; at: string; source: 'topic' | 'file' };
}

interface Anchor {
  checkpoint: Checkpoint;
  heads: Map<string, ChainHead>;
  source: 'topic' | 'file';
}

/**
 * `changegate audit export`: read the audit ledger from the beginning, verify it, pick the
 * chains of one CR, one correlation id, or everything since a time, and print the lineage as a
 * compliance record.
 *
 * Verification covers the whole ledger, whatever the selection (a hole anywhere means the
 * ledger cannot be trusted): every record's signature, every chain from seq 1, and every chain
 * against the newest checkpoint (the topic's, or the file given) — so a chain cut short, a chain
 * deleted and a chain rebuilt from its first entry are each reported with the chain and the
 * position. The rows are printed all the same (the reader sees what was there).
 *
 * @example await auditExport({ bus, ledgerTopic, checkpointTopic, key, selector: { change: 'CHG0010001' }, format: 'csv', write, warn })
 */
export async function auditExport({
  bus,
  ledgerTopic,
  checkpointTopic,
  checkpointFile,
  key,
  selector,
  format,
  write,
  warn,
}: AuditExportOptions): Promise<AuditExportResult> {
  const records: StoredLedgerRecord[] = [];
  const problems: ChainBreak[] = [];
  await bus.readToEnd(ledgerTopic, (record) => {
    const at = { partition: record.partition, offset: record.offset };
    let parsed;
    try {
      parsed = LedgerRecordSchema.safeParse(JSON.parse(record.value?.toString('utf8') ?? 'null'));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      if (record.key) problems.push({ key: record.key, seq: 0, at, reason: 'not a ledger record' });
      return;
    }
    const r = { ...parsed.data, at };
    const unsigned = recordSignatureProblem(key, r);
    if (unsigned)
      problems.push({ key: r.key, seq: r.seq, entryId: r.entry.id, at, reason: unsigned });
    records.push(r);
  });
  const chainBreak = verifyChains(records);
  if (chainBreak) problems.push(chainBreak);

  const { anchor, problems: anchorProblems } = await loadAnchor({
    bus,
    key,
    checkpointTopic,
    checkpointFile,
  });
  for (const reason of anchorProblems) problems.push({ key: '(checkpoints)', seq: 0, reason });
  if (anchor) {
    const label = `checkpoint #${anchor.checkpoint.n} (${anchor.checkpoint.at}, ${anchor.source})`;
    problems.push(...compareWithCheckpoint(records, anchor.heads, label));
  } else if (anchorProblems.length === 0) {
    warn(
      'changegate audit export: no checkpoint found: a shortened or deleted chain cannot be detected (give --checkpoint <file>)\n',
    );
  }

  const keys = selectKeys(records, selector);
  const rows = lineage(records, keys, 'since' in selector ? selector.since : undefined).map(toRow);
  const chains = [...keys].map((k) => {
    const own = records.filter((r) => r.key === k);
    return { key: k, entries: own.length, head: own.at(-1)?.hash ?? '' };
  });
  const broken = problems[0];
  const checkpoint = anchor
    ? { n: anchor.checkpoint.n, at: anchor.checkpoint.at, source: anchor.source }
    : undefined;

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
        ...(problems.length ? { problems } : {}),
        ...(checkpoint ? { checkpoint } : {}),
        chains,
        entries: rows,
      }),
    );
  }
  const result = { rows, problems, ...(checkpoint ? { checkpoint } : {}) };
  if (broken) {
    warn(`changegate audit export: ledger does not verify at ${describeBreak(broken)}\n`);
    for (const p of problems.slice(1)) warn(`  also: ${describeBreak(p)}\n`);
    return { ...result, exitCode: 1, broken };
  }
  if (rows.length === 0) {
    warn('changegate audit export: no ledger entries match the selection\n');
    return { ...result, exitCode: 3 };
  }
  warn(
    `changegate audit export: ${rows.length} entries in ${chains.length} chain(s), every hash and signature verifies${checkpoint ? `, every chain reaches checkpoint #${checkpoint.n}` : ''}\n`,
  );
  return { ...result, exitCode: 0 };
}

async function loadAnchor({
  bus,
  key,
  checkpointTopic,
  checkpointFile,
}: Pick<AuditExportOptions, 'bus' | 'key' | 'checkpointTopic' | 'checkpointFile'>): Promise<{
  anchor?: Anchor;
  problems: string[];
}> {
  if (checkpointFile) {
    let parsed;
    try {
      parsed = CheckpointSchema.safeParse(JSON.parse(readFileSync(checkpointFile, 'utf8')));
    } catch (err) {
      return { problems: [`checkpoint file ${checkpointFile}: ${(err as Error).message}`] };
    }
    if (!parsed.success)
      return { problems: [`checkpoint file ${checkpointFile}: not a checkpoint`] };
    const c = parsed.data;
    const heads = new Map(c.heads.map((h) => [h.key, { seq: h.seq, hash: h.hash }]));
    if (!checkpointSignatureValid(key, c))
      return { problems: [`checkpoint file ${checkpointFile}: signature does not verify`] };
    if (!c.full || heads.size !== c.chains || headsRoot(heads) !== c.root)
      return {
        problems: [`checkpoint file ${checkpointFile}: its heads do not add up to its root`],
      };
    return { anchor: { checkpoint: c, heads, source: 'file' }, problems: [] };
  }
  if (!checkpointTopic) return { problems: [] };
  const written: Checkpoint[] = [];
  await bus.readToEnd(checkpointTopic, (record) => {
    let value: unknown;
    try {
      value = JSON.parse(record.value?.toString('utf8') ?? 'null');
    } catch {
      return;
    }
    const parsed = CheckpointSchema.safeParse(value);
    if (parsed.success) written.push(parsed.data);
  });
  const folded = foldCheckpoints(key, written);
  return {
    ...(folded.newest
      ? {
          anchor: {
            checkpoint: folded.newest.checkpoint,
            heads: folded.newest.heads,
            source: 'topic' as const,
          },
        }
      : {}),
    problems: folded.problems,
  };
}
