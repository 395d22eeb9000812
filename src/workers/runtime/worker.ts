import { fromRecord } from '../../bus/cloudevents.js';
import type { Bus, ConsumedRecord, Subscription } from '../../bus/port.js';
import { coerceError } from '../../errors.js';
import type { CloudEvent } from '../../events/envelope.js';
import type { Logger } from '../../log.js';
import { DEFAULT_RETRY, withAttempts, type RetryPolicy } from './attempts.js';
import { deadLetterRecord } from './dead-letter.js';
import type { EventRouter } from './router.js';

export interface HandlerContext {
  log: Logger;
  /** 1 on the first try. */
  attempt: number;
  record: ConsumedRecord;
}

/** A stateless worker: the topics it reads and a handler per event type it acts on. */
export interface WorkerDefinition {
  /** Also the consumer group suffix: `changegate-<name>`. */
  name: string;
  /** Topic names on the bus. */
  topics: string[];
  events: EventRouter<HandlerContext>;
}

/** What became of one consumed record, for metrics. */
export type WorkerOutcome = 'done' | 'skipped' | 'dead-lettered';

export interface WorkerRuntimeOptions {
  bus: Bus;
  log: Logger;
  dlqTopic: string;
  groupPrefix?: string;
  retry?: Partial<RetryPolicy>;
  onOutcome?: (worker: string, outcome: WorkerOutcome, ms: number) => void;
}

/**
 * Consume a worker's topics and route each event to its handler.
 *
 * Invariant: every consumed record ends in exactly one place, and only then is its offset
 * committed — handled (the handler resolved, or no handler takes its type), or dead-lettered (it
 * could not be read, the error was not retryable, or the attempts were spent) with the error,
 * the attempt count and the original headers on the DLQ topic. If even the DLQ write fails, or
 * the handler failed because the bus was unavailable, the promise rejects so the bus redelivers
 * the record: nothing is skipped silently, and an outage never counts against an event's
 * attempts. Handlers must therefore be idempotent, which every worker is (correlation ids,
 * "already decided" callbacks).
 */
export async function runWorker(
  worker: WorkerDefinition,
  { bus, log, dlqTopic, groupPrefix = 'changegate', retry, onOutcome }: WorkerRuntimeOptions,
): Promise<Subscription> {
  const policy = { ...DEFAULT_RETRY, ...retry };
  const wlog = log.child({ worker: worker.name });
  return bus.subscribe({
    groupId: `${groupPrefix}-${worker.name}`,
    topics: worker.topics,
    fromBeginning: true,
    handler: async (record) => {
      const started = performance.now();
      const done = (outcome: WorkerOutcome) =>
        onOutcome?.(worker.name, outcome, performance.now() - started);
      const poison = async (error: Error, attempts: number) => {
        await bus.publish([deadLetterRecord(dlqTopic, worker.name, record, error, attempts)]);
        done('dead-lettered');
      };
      let event: CloudEvent;
      try {
        event = fromRecord(record);
      } catch (err) {
        wlog.warn(
          { topic: record.topic, offset: record.offset },
          'unreadable record dead-lettered',
        );
        await poison(coerceError(err), 0);
        return;
      }
      let routed = false;
      const elog = wlog.child({ eventId: event.id, type: event.type });
      const outcome = await withAttempts(
        async (attempt) => {
          const handled = worker.events.route(event, {
            log: elog.child({ attempt }),
            attempt,
            record,
          });
          routed = handled !== undefined;
          await handled;
        },
        { policy, log: elog },
      );
      if (outcome.kind === 'poison') await poison(outcome.error, outcome.attempts);
      else done(routed ? 'done' : 'skipped');
    },
  });
}
