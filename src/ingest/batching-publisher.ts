import { BusUnavailableError, coerceError } from '../errors.js';
import type { Bus, BusRecord } from '../bus/port.js';

export interface BatchingPublisherOptions {
  bus: Bus;
  /** How long the first waiting request holds a batch open for others to join. */
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  /** A request not acknowledged by then is answered 503 (its records may still land: see below). */
  timeoutMs: number;
  /** Waiting bytes past which new requests are refused at once instead of queued. */
  maxQueuedBytes?: number;
  onBatch?: (records: number, seconds: number, ok: boolean) => void;
}

interface Pending {
  records: BusRecord[];
  bytes: number;
  settle: (err?: Error) => void;
}

/** Told how a batch ended that a caller had already given up on (it timed out in flight). */
export type LateOutcome = (written: boolean) => void;

/**
 * Group commit for the receiver. kafkajs sends one produce request per `send()` and has no
 * linger (kafkajs#1157), so concurrent deliveries are gathered here into one `publish()`:
 * a batch leaves when it is full, when `lingerMs` has passed, or — while a batch is in flight —
 * as soon as that batch is acknowledged. Each caller resolves only when the batch holding its
 * records is acknowledged by the bus (acks=all), and one caller's records always travel in one
 * batch, so an event and its delivery-log marker are written together or not at all.
 *
 * A caller that times out gets BusUnavailableError. If its records were still queued they are
 * dropped from the queue (never sent); if their batch was already in flight it may still be
 * written later. That is safe: the receiver then spools the same records (or the sender
 * redelivers), the CloudEvent id is the same, and the marker turns a redelivery into a
 * duplicate (200).
 */
export class BatchingPublisher {
  readonly #options: Required<Omit<BatchingPublisherOptions, 'onBatch'>> &
    Pick<BatchingPublisherOptions, 'onBatch'>;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(options: BatchingPublisherOptions) {
    this.#options = { maxQueuedBytes: 64 * 1024 * 1024, ...options };
  }

  /**
   * @throws BusUnavailableError when the bus does not acknowledge within `timeoutMs`, refuses
   *   the write, or the publisher is closed.
   */
  publish(
    records: BusRecord[],
    timeoutMs = this.#options.timeoutMs,
    onLate?: LateOutcome,
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new BusUnavailableError('publisher is shutting down'));
    const bytes = records.reduce((sum, r) => sum + sizeOf(r), 0);
    if (this.#queuedBytes + bytes > this.#options.maxQueuedBytes) {
      return Promise.reject(new BusUnavailableError('publish queue is full; the bus is too slow'));
    }
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const pending: Pending = {
        records,
        bytes,
        settle: (err) => {
          clearTimeout(deadline);
          // The caller timed out while its batch was in flight: it has spooled the records by
          // now, so whether they also reached the bus decides whether the spool forwards them.
          if (done) return onLate?.(err === undefined);
          done = true;
          if (err) reject(err);
          else resolve();
        },
      };
      const deadline = setTimeout(() => {
        if (done) return;
        done = true;
        // Still waiting for a batch: it will never be sent, so a spool may take it instead
        // without the risk of the same records also reaching the bus from here.
        const queued = this.#queue.indexOf(pending);
        if (queued >= 0) {
          this.#queue.splice(queued, 1);
          this.#queuedBytes -= bytes;
        }
        reject(new BusUnavailableError(`bus did not acknowledge within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#queue.push(pending);
      this.#queuedBytes += bytes;
      this.#schedule();
    });
  }

  /**
   * Resolves once the batch in flight now (if any) has settled, whichever way; its late
   * outcomes have been reported by then. The spool's forwarder waits on it before it forwards,
   * so records of a timed-out batch that still lands are not written twice.
   */
  async inFlightSettled(): Promise<void> {
    await this.#inFlight?.catch(() => undefined);
  }

  /** Send what is queued now and wait until everything handed in so far is settled. */
  async flush(): Promise<void> {
    this.#cancelTimer();
    while (this.#inFlight || this.#queue.length > 0) {
      if (!this.#inFlight) this.#sendNext();
      await this.#inFlight;
    }
  }

  /** Refuse new work, then flush what was accepted. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(): void {
    if (this.#inFlight) return; // the in-flight batch's completion sends the next one
    if (this.#full()) {
      this.#cancelTimer();
      this.#sendNext();
    } else if (!this.#timer) {
      const fire = () => {
        this.#timer = undefined;
        if (!this.#inFlight) this.#sendNext();
      };
      // linger 0: only what arrives in this turn of the event loop joins; a timer would cost ≥1 ms.
      this.#timer =
        this.#options.lingerMs === 0
          ? (setImmediate(fire) as unknown as NodeJS.Timeout)
          : setTimeout(fire, this.#options.lingerMs);
    }
  }

  #cancelTimer(): void {
    if (this.#options.lingerMs === 0) clearImmediate(this.#timer as unknown as NodeJS.Immediate);
    else clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #full(): boolean {
    let records = 0;
    for (const p of this.#queue) records += p.records.length;
    return (
      records >= this.#options.maxBatchRecords || this.#queuedBytes >= this.#options.maxBatchBytes
    );
  }

  #sendNext(): void {
    const batch = this.#take();
    if (batch.length === 0) return;
    const records = batch.flatMap((p) => p.records);
    const started = performance.now();
    this.#inFlight = this.#options.bus.publish(records).then(
      () => {
        this.#options.onBatch?.(records.length, (performance.now() - started) / 1000, true);
        for (const p of batch) p.settle();
      },
      (err: unknown) => {
        this.#options.onBatch?.(records.length, (performance.now() - started) / 1000, false);
        const error =
          err instanceof BusUnavailableError
            ? err
            : new BusUnavailableError(`bus refused the write: ${coerceError(err).message}`, {
                cause: err,
              });
        for (const p of batch) p.settle(error);
      },
    );
    void this.#inFlight.finally(() => {
      this.#inFlight = undefined;
      if (this.#queue.length > 0) this.#sendNext();
    });
  }

  /** Take whole requests up to the batch limits (at least one, even if it alone is larger). */
  #take(): Pending[] {
    const batch: Pending[] = [];
    let records = 0;
    let bytes = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      const fits =
        records + next.records.length <= this.#options.maxBatchRecords &&
        bytes + next.bytes <= this.#options.maxBatchBytes;
      if (batch.length > 0 && !fits) break;
      this.#queue.shift();
      this.#queuedBytes -= next.bytes;
      records += next.records.length;
      bytes += next.bytes;
      batch.push(next);
    }
    return batch;
  }
}

function sizeOf(record: BusRecord): number {
  let size = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [k, v] of Object.entries(record.headers)) size += k.length + v.length;
  return size;
}
