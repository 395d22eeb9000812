import { z } from 'zod';

/**
 * The dead-letter record: the original key, value and headers, unchanged, plus the
 * `changegate-*` headers that say where it came from, which worker gave up and why. Written by
 * the worker runtime only (src/workers/runtime/dead-letter.ts); read by `changegate replay`, the
 * notify worker and the status page; its AsyncAPI message is generated from
 * {@link DeadLetterHeadersSchema}. One block, here.
 *
 * @module
 */

const numeric = z.string().regex(/^\d+$/);

export const DeadLetterHeadersSchema = z.object({
  'changegate-origin-topic': z.string().min(1),
  'changegate-origin-partition': numeric,
  'changegate-origin-offset': numeric,
  'changegate-worker': z.string().min(1),
  'changegate-error': z.string().max(2000),
  'changegate-error-name': z.string(),
  'changegate-attempts': numeric.describe(
    'Attempts made; 0 when the record was not even readable.',
  ),
  'changegate-dead-lettered-at': z.iso.datetime({ offset: true }),
});

export type DeadLetterHeaders = z.infer<typeof DeadLetterHeadersSchema>;

/** The header names above, e.g. to strip them when a record is replayed. */
export const DEAD_LETTER_HEADER_NAMES = Object.keys(
  DeadLetterHeadersSchema.shape,
) as readonly (keyof DeadLetterHeaders)[];

/** What a dead letter says, parsed; what a person reading the DLQ wants to know. */
export interface DeadLetter {
  originTopic: string;
  originPartition: number;
  originOffset: string;
  worker: string;
  error: string;
  errorName: string;
  attempts: number;
  deadLetteredAt: string;
}

/** A DLQ record's headers read back; undefined when they are not a changegate dead letter. */
export function readDeadLetter(headers: Record<string, string>): DeadLetter | undefined {
  const parsed = DeadLetterHeadersSchema.safeParse(headers);
  if (!parsed.success) return undefined;
  const h = parsed.data;
  return {
    originTopic: h['changegate-origin-topic'],
    originPartition: Number(h['changegate-origin-partition']),
    originOffset: h['changegate-origin-offset'],
    worker: h['changegate-worker'],
    error: h['changegate-error'],
    errorName: h['changegate-error-name'],
    attempts: Number(h['changegate-attempts']),
    deadLetteredAt: h['changegate-dead-lettered-at'],
  };
}

/** The record as it was before it was dead-lettered: its own headers, without ours. */
export function withoutDeadLetterHeaders(headers: Record<string, string>): Record<string, string> {
  const ours = new Set<string>(DEAD_LETTER_HEADER_NAMES);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !ours.has(name)));
}
