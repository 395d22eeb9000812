import type { Bus, BusRecord, ConsumedRecord } from '../bus/port.js';
import { ChangegateError } from '../errors.js';
import { readDeadLetter, withoutDeadLetterHeaders } from '../events/dead-letter.js';

/**
 * `changegate replay --from dlq`: put dead letters back on the topic they came from, once the
 * bug that killed them is fixed.
 *
 * Each matching DLQ record is re-published to its `changegate-origin-topic` with its key, value
 * and original headers (the `changegate-*` headers the DLQ added are removed) plus
 * `changegate-replayed-from: <dlq>/<partition>/<offset>` and `changegate-replayed-for: <worker>`.
 * In the same publish a marker keyed by that position goes to the compacted
 * `changegate.dlq-replayed` topic; a later run reads the markers first and skips what was
 * replayed, so running replay twice replays nothing twice.
 * Markers rather than a consumer-group offset: a filtered run must leave the records it did not
 * match replayable by the next run.
 *
 * The origin topic's consumers all see the record again, not only the worker that failed on it;
 * every worker is idempotent (DESIGN.md §5), so the others do nothing new.
 *
 * @module
 */

/** Where a replayed record was on the DLQ (`<topic>/<partition>/<offset>`): its marker key. */
export const REPLAYED_FROM_HEADER = 'changegate-replayed-from';
/** The worker that dead-lettered the record: lets other consumers of the topic skip a replay. */
export const REPLAYED_FOR_HEADER = 'changegate-replayed-for';

/** An argument of `--filter` is wrong. */
export class ReplayFilterError extends ChangegateError {
  constructor(message: string) {
    super('config_invalid', 400, `[changegate/replay] ${message}`);
  }
}

const FIELDS = ['worker', 'type', 'error', 'key', 'topic'] as const;
type Field = (typeof FIELDS)[number];

/** `worker=change`, `type=deployment.requested`, `error~timeout|refused`, `key=…`, `topic=…`. */
export interface ReplayFilter {
  field: Field;
  op: '=' | '~';
  value: string;
  regex?: RegExp;
}

/**
 * Parse one `--filter` argument.
 * @throws ReplayFilterError naming what is wrong.
 * @example parseFilter('error~ServiceNow (429|503)')
 */
export function parseFilter(text: string): ReplayFilter {
  const m = /^([a-z]+)\s*(=|~)(.*)$/s.exec(text);
  if (!m) throw new ReplayFilterError(`filter "${text}" is not field=value or field~regex`);
  const [, field, op, value] = m as unknown as [string, string, '=' | '~', string];
  if (!(FIELDS as readonly string[]).includes(field)) {
    throw new ReplayFilterError(`unknown filter field "${field}"; known: ${FIELDS.join(', ')}`);
  }
  if (op === '=') return { field: field as Field, op, value };
  try {
    return { field: field as Field, op, value, regex: new RegExp(value) };
  } catch (err) {
    throw new ReplayFilterError(`filter "${text}": ${(err as Error).message}`);
  }
}

function fieldOf(record: ConsumedRecord, field: Field): string {
  const h = record.headers;
  switch (field) {
    case 'worker':
      return h['changegate-worker'] ?? '';
    case 'type':
      return h.ce_type ?? '';
    case 'error':
      return h['changegate-error'] ?? '';
    case 'key':
      return record.key ?? '';
    case 'topic':
      return h['changegate-origin-topic'] ?? '';
  }
}

/** True when the record passes every filter. `type=x` also matches a type ending in `.x`. */
export function matches(record: ConsumedRecord, filters: readonly ReplayFilter[]): boolean {
  return filters.every((f) => {
    const actual = fieldOf(record, f.field);
    if (f.regex) return f.regex.test(actual);
    return actual === f.value || (f.field === 'type' && actual.endsWith(`.${f.value}`));
  });
}

export interface ReplayOptions {
  bus: Pick<Bus, 'readToEnd' | 'publish' | 'ensureTopics'>;
  dlqTopic: string;
  markerTopic: string;
  filters?: readonly ReplayFilter[];
  dryRun?: boolean;
  limit?: number;
  /** One line per record and a summary. */
  write?: (line: string) => void;
  now?: () => Date;
  /** Records per publish. */
  batchSize?: number;
}

export interface ReplayedRecord {
  dlq: { partition: number; offset: string };
  originTopic: string;
  key: string | null;
  type: string;
  worker: string;
  attempts: string;
  error: string;
}

export interface ReplayResult {
  /** Matching records replayed now (or, with dryRun, that would be). */
  replayed: ReplayedRecord[];
  /** Matching records skipped because an earlier run replayed them. */
  alreadyReplayed: number;
  /** Matching records with no origin topic (not dead-lettered by a worker): left alone. */
  withoutOrigin: number;
  dryRun: boolean;
}

const markerKey = (dlqTopic: string, r: { partition: number; offset: string }) =>
  `${dlqTopic}/${r.partition}/${r.offset}`;

/**
 * Replay matching DLQ records to their origin topics.
 * @example await replay({ bus, dlqTopic, markerTopic, filters: [parseFilter('worker=change')] })
 */
export async function replay({
  bus,
  dlqTopic,
  markerTopic,
  filters = [],
  dryRun = false,
  limit = Infinity,
  write = () => undefined,
  now = () => new Date(),
  batchSize = 200,
}: ReplayOptions): Promise<ReplayResult> {
  const done = new Set<string>();
  await bus.readToEnd(markerTopic, (m) => {
    if (m.key === null) return;
    if (m.value === null) done.delete(m.key);
    else done.add(m.key);
  });
  const result: ReplayResult = { replayed: [], alreadyReplayed: 0, withoutOrigin: 0, dryRun };
  const chosen: ConsumedRecord[] = [];
  await bus.readToEnd(dlqTopic, (r) => {
    if (!matches(r, filters)) return;
    if (done.has(markerKey(dlqTopic, r))) {
      result.alreadyReplayed += 1;
      return;
    }
    if (!readDeadLetter(r.headers)?.originTopic) {
      result.withoutOrigin += 1;
      return;
    }
    if (chosen.length < limit) chosen.push(r);
  });

  if (!dryRun && chosen.length > 0) {
    await bus.ensureTopics([{ topic: markerTopic, partitions: 1, cleanup: 'compact' }]);
  }
  for (let i = 0; i < chosen.length; i += batchSize) {
    const batch = chosen.slice(i, i + batchSize);
    const records: BusRecord[] = [];
    for (const r of batch) {
      const letter = readDeadLetter(r.headers)!;
      const origin = letter.originTopic;
      const position = markerKey(dlqTopic, r);
      const headers = withoutDeadLetterHeaders(r.headers);
      headers[REPLAYED_FROM_HEADER] = position;
      headers[REPLAYED_FOR_HEADER] = letter.worker;
      records.push({ topic: origin, key: r.key, value: r.value, headers });
      records.push({
        topic: markerTopic,
        key: position,
        value: Buffer.from(
          JSON.stringify({ replayedAt: now().toISOString(), originTopic: origin, key: r.key }),
        ),
        headers: { 'content-type': 'application/json' },
      });
    }
    // Replays and their markers in one publish: acknowledged together (acks=all).
    if (!dryRun) await bus.publish(records);
    for (const r of batch) {
      const letter = readDeadLetter(r.headers)!;
      const item: ReplayedRecord = {
        dlq: { partition: r.partition, offset: r.offset },
        originTopic: letter.originTopic,
        key: r.key,
        type: r.headers.ce_type ?? '',
        worker: letter.worker,
        attempts: String(letter.attempts),
        error: letter.error,
      };
      result.replayed.push(item);
      write(
        `${dryRun ? 'would replay' : 'replayed'} ${dlqTopic}/${r.partition}/${r.offset} -> ${item.originTopic} key=${item.key ?? '(none)'} type=${item.type || '(none)'} worker=${item.worker || '?'} attempts=${item.attempts || '?'} error=${JSON.stringify(item.error.slice(0, 200))}`,
      );
    }
  }
  write(
    `${result.replayed.length} ${dryRun ? 'would be replayed (dry run: nothing published)' : 'replayed'}, ${result.alreadyReplayed} already replayed earlier${result.withoutOrigin ? `, ${result.withoutOrigin} without origin topic left alone` : ''}`,
  );
  return result;
}
