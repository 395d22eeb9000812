import type { BusRecord, ConsumedRecord } from '../../bus/port.js';
import type { DeadLetterHeaders } from '../../events/dead-letter.js';

/**
 * The one writer of dead letters (the headers' schema and readers: src/events/dead-letter.ts).
 *
 * @module
 */

/** The DLQ record for `record`, which `worker` gave up on after `attempts` with `error`. */
export function deadLetterRecord(
  dlqTopic: string,
  worker: string,
  record: ConsumedRecord,
  error: Error,
  attempts: number,
  now: Date = new Date(),
): BusRecord {
  const headers: DeadLetterHeaders = {
    'changegate-origin-topic': record.topic,
    'changegate-origin-partition': String(record.partition),
    'changegate-origin-offset': record.offset,
    'changegate-worker': worker,
    'changegate-error': error.message.slice(0, 2000),
    'changegate-error-name': error.name,
    'changegate-attempts': String(attempts),
    'changegate-dead-lettered-at': now.toISOString(),
  };
  return {
    topic: dlqTopic,
    key: record.key,
    value: record.value,
    headers: { ...record.headers, ...headers },
  };
}
