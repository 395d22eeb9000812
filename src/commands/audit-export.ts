import { readFileSync } from 'node:fs';
import {
  CheckpointFileSchema,
  CheckpointSchema,
  checkpointLabel,
  combinedRoot,
  compareWithCheckpoint,
  foldCheckpoints,
  fullCheckpointProblem,
  newestPerPartition,
  type Checkpoint,
  type PartitionAnchor,
} from '../audit/checkpoint.js';
import {
  LedgerRecordSchema,
  describeBreak,
  dropRepeats,
  recordSignatureProblem,
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
import type { AuditKey } from '../audit/signing.js';
import type { Bus } from '../bus/port.js';

export interface AuditExportOptions {
  bus: Pick<Bus, 'readToEnd'>;
  /** The ledger topic (`kafka.topics.auditLedger`). */
  ledgerTopic: string;
  /** The checkpoint topic (`kafka.topics.auditCheckpoints`): its newest checkpoint is the anchor. */
  checkpointTopic?: string;
  /**
   * Checkpoint files (from write-once storage; one per ledger replica): the anchor instead of
   * the topic's. Per partition, the newest checkpoint among them that verifies.
   */
  checkpointFiles?: readonly string[];
  /** One checkpoint file: the same as `checkpointFiles: [file]`. */
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
  /** The checkpoints the ledger was compared with: the newest of each partition. */
  checkpoint?: CheckpointSummary;
  /** Records found twice, byte for byte (an append repeated after a crash; not a fork). */
  repeats: number;
}

export interface CheckpointSummary {
  source: 'topic' | 'file';
  /** One digest over every partition's newest checkpoint (combinedRoot). */
  root: string;
  partitions: { partition: number; n: number; at: string; chains: number }[];
}

/**
 * `changegate audit export`: read the audit ledger from the beginning, verify it, pick the
 * chains of one CR, one correlation id, or everything since a time, and print the lineage as a
 * compliance record.
 *
 * Verification covers the whole ledger, whatever the selection (a hole anywhere means the
 * ledger cannot be trusted): every record's signature, every chain from seq 1, and every chain
 * against the newest checkpoint of its ledger partition (the topic's, or the files given) — so a
 * chain cut short, a chain deleted and a chain rebuilt from its first entry are each reported
 * with the chain and the position. The rows are printed all the same (the reader sees what was
 * there).
 *
 * @example await auditExport({ bus, ledgerTopic, checkpointTopic, key, selector: { change: 'CHG0010001' }, format: 'csv', write, warn })
 */
export async function auditExport({
  bus,
  ledgerTopic,
  checkpointTopic,
  checkpointFile,
  checkpointFiles = checkpointFile ? [checkpointFile] : [],
  key,
  selector,
  format,
  write,
  warn,
}: AuditExportOptions): Promise<AuditExportResult> {
  const read: StoredLedgerRecord[] = [];
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
    read.push(r);
  });
  const { records, repeats } = dropRepeats(read);
  const chainBreak = verifyChains(records);
  if (chainBreak) problems.push(chainBreak);

  const {
    anchors,
    source,
    problems: anchorProblems,
  } = await loadAnchors({
    bus,
    key,
    checkpointTopic,
    checkpointFiles,
  });
  for (const reason of anchorProblems) problems.push({ key: '(checkpoints)', seq: 0, reason });
  for (const [, { checkpoint: c, heads }] of [...anchors].sort(([a], [b]) => a - b)) {
    const label = checkpointLabel(c).replace(/\)$/, `, ${source})`);
    problems.push(...compareWithCheckpoint(records, heads, label));
  }
  const uncovered = [...new Set(records.map((r) => r.at?.partition))]
    .filter((p): p is number => p !== undefined && !anchors.has(p))
    .sort((a, b) => a - b);
  if (anchors.size === 0 && anchorProblems.length === 0) {
    warn(
      'changegate audit export: no checkpoint found: a shortened or deleted chain cannot be detected (give --checkpoint <file>)\n',
    );
  } else if (uncovered.length > 0) {
    warn(
      `changegate audit export: no checkpoint covers ledger partition(s) ${uncovered.join(', ')}: a shortened or deleted chain there cannot be detected\n`,
    );
  }

  const keys = selectKeys(records, selector);
  const rows = lineage(records, keys, 'since' in selector ? selector.since : undefined).map(toRow);
  const chains = [...keys].map((k) => {
    const own = records.filter((r) => r.key === k);
    return { key: k, entries: own.length, head: own.at(-1)?.hash ?? '' };
  });
  const broken = problems[0];
  const checkpoint: CheckpointSummary | undefined =
    anchors.size > 0
      ? {
          source,
          root: combinedRoot(anchors),
          partitions: [...anchors.values()]
            .map(({ checkpoint: c }) => ({
              partition: c.partition,
              n: c.n,
              at: c.at,
              chains: c.chains,
            }))
            .sort((a, b) => a.partition - b.partition),
        }
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
        ...(repeats.length ? { repeats: repeats.length } : {}),
        chains,
        entries: rows,
      }),
    );
  }
  const result = {
    rows,
    problems,
    repeats: repeats.length,
    ...(checkpoint ? { checkpoint } : {}),
  };
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
    `changegate audit export: ${rows.length} entries in ${chains.length} chain(s), every hash and signature verifies${checkpoint ? `, every chain reaches its partition's newest checkpoint (${checkpoint.partitions.map((c) => `#${c.n} of partition ${c.partition}`).join(', ')})` : ''}${repeats.length ? `; ${repeats.length} record(s) repeated byte for byte, counted once` : ''}\n`,
  );
  return { ...result, exitCode: 0 };
}

interface Anchors {
  anchors: Map<number, PartitionAnchor>;
  source: 'topic' | 'file';
  problems: string[];
}

async function loadAnchors({
  bus,
  key,
  checkpointTopic,
  checkpointFiles,
}: Pick<AuditExportOptions, 'bus' | 'key' | 'checkpointTopic'> & {
  checkpointFiles: readonly string[];
}): Promise<Anchors> {
  if (checkpointFiles.length > 0) {
    const problems: string[] = [];
    const verified: Checkpoint[] = [];
    for (const file of checkpointFiles) {
      let parsed;
      try {
        parsed = CheckpointFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        problems.push(`checkpoint file ${file}: ${(err as Error).message}`);
        continue;
      }
      if (!parsed.success) {
        problems.push(`checkpoint file ${file}: not a checkpoint file`);
        continue;
      }
      for (const c of parsed.data.checkpoints) {
        const problem = fullCheckpointProblem(key, c);
        if (problem) problems.push(`checkpoint file ${file}: ${problem}`);
        else verified.push(c);
      }
    }
    const anchors = new Map<number, PartitionAnchor>();
    for (const [partition, c] of newestPerPartition(verified)) {
      anchors.set(partition, {
        checkpoint: c,
        heads: new Map(c.heads.map((h) => [h.key, { seq: h.seq, hash: h.hash }])),
      });
    }
    return { anchors, source: 'file', problems };
  }
  if (!checkpointTopic) return { anchors: new Map(), source: 'topic', problems: [] };
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
  return { anchors: folded.newest, source: 'topic', problems: folded.problems };
}
