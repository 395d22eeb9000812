import { fromRecord } from '../bus/cloudevents.js';
import type { Bus, ConsumedRecord, Subscription } from '../bus/port.js';
import { ZodError } from 'zod';
import { BusUnavailableError, PayloadError, UpstreamError, coerceError } from '../errors.js';
import type { CloudEvent } from '../events/envelope.js';
import type { Logger } from '../log.js';

export interface HandlerContext {
  log: Logger;
  /** 1 on the first try. */
  attempt: number;
  record: ConsumedRecord;
}

export interface WorkerDefinition {
  /** Also the consumer group suffix: `changegate-<name>`. */
  name: string;
  /** Topic names on the bus. */
  topics: string[];
  handle(event: CloudEvent, ctx: HandlerContext): Promise<void>;
}

export interface RunWorkerOptions {
  bus: Bus;
  log: Logger;
  dlqTopic: string;
  groupPrefix?: string;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onOutcome?: (worker: string, outcome: 'done' | 'dead-lettered', ms: number) => void;
}

/**
 * Consume a worker's topics and apply its handler.
 *
 * Invariant: every consumed record ends in exactly one place, and only then is its offset
 * committed — handled (the handler resolved), or dead-lettered (it could not be read, the error
 * was not retryable, or `maxAttempts` were spent) with the error, the attempt count and the
 * original headers on the DLQ topic. If even the DLQ write fails, or the handler failed because
 * the bus was unavailable, the promise rejects so the bus redelivers the record: nothing is
 * skipped silently, and an outage never counts against an event's attempts. Handlers must
 * therefore be idempotent, which every worker is (correlation ids, "already decided" callbacks).
 */
export async function runWorker(
  worker: WorkerDefinition,
  {
    bus,
    log,
    dlqTopic,
    groupPrefix = 'changegate',
    maxAttempts = 5,
    baseDelayMs = 200,
    maxDelayMs = 30_000,
    onOutcome,
  }: RunWorkerOptions,
): Promise<Subscription> {
  const wlog = log.child({ worker: worker.name });
  return bus.subscribe({
    groupId: `${groupPrefix}-${worker.name}`,
    topics: worker.topics,
    fromBeginning: true,
    handler: async (record) => {
      const started = performance.now();
      let event: CloudEvent;
      try {
        event = fromRecord(record);
      } catch (err) {
        await deadLetter(bus, dlqTopic, worker.name, record, coerceError(err), 0);
        wlog.warn(
          { topic: record.topic, offset: record.offset },
          'unreadable record dead-lettered',
        );
        onOutcome?.(worker.name, 'dead-lettered', performance.now() - started);
        return;
      }
      for (let attempt = 1; ; attempt++) {
        const elog = wlog.child({ eventId: event.id, type: event.type, attempt });
        try {
          await worker.handle(event, { log: elog, attempt, record });
          onOutcome?.(worker.name, 'done', performance.now() - started);
          return;
        } catch (err) {
          const error = coerceError(err);
          // The bus itself is down: that is no fault of the event, and the DLQ is on the same
          // bus. Reject, so the bus redelivers it once it is back, instead of spending the
          // attempts and dead-lettering a good event (a deployment whose gate never registers).
          if (error instanceof BusUnavailableError) {
            elog.warn({ err: error.message }, 'bus unavailable; the record will be redelivered');
            throw error;
          }
          const retryable = isRetryable(error);
          if (!retryable || attempt >= maxAttempts) {
            elog.error(
              { err: error.message, retryable },
              `failed on attempt ${attempt} of ${maxAttempts}; dead-lettered`,
            );
            await deadLetter(bus, dlqTopic, worker.name, record, error, attempt);
            onOutcome?.(worker.name, 'dead-lettered', performance.now() - started);
            return;
          }
          const delay = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
          elog.warn(
            { err: error.message, retryInMs: Math.round(delay) },
            `failed on attempt ${attempt} of ${maxAttempts}; retrying`,
          );
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    },
  });
}

/** Publish a record to the DLQ with the error, the attempts spent and where it came from. */
export async function deadLetter(
  bus: Bus,
  topic: string,
  worker: string,
  record: ConsumedRecord,
  error: Error,
  attempts: number,
): Promise<void> {
  await bus.publish([
    {
      topic,
      key: record.key,
      value: record.value,
      headers: {
        ...record.headers,
        'changegate-origin-topic': record.topic,
        'changegate-origin-partition': String(record.partition),
        'changegate-origin-offset': record.offset,
        'changegate-worker': worker,
        'changegate-error': error.message.slice(0, 2000),
        'changegate-error-name': error.name,
        'changegate-attempts': String(attempts),
        'changegate-dead-lettered-at': new Date().toISOString(),
      },
    },
  ]);
}

/**
 * Upstream errors say themselves; input that does not validate never will, however often it is
 * tried; anything else (a bug, a network blip) gets the benefit of the doubt.
 */
export function isRetryable(error: Error): boolean {
  if (error instanceof UpstreamError) return error.retryable;
  return !(error instanceof PayloadError || error instanceof ZodError);
}
