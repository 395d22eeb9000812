import type { Bus } from '../bus/port.js';
import type { Logger } from '../log.js';
import type { Spool } from './spool.js';

export interface ForwarderOptions {
  spool: Spool;
  bus: Pick<Bus, 'publish' | 'isReady'>;
  /** Dedupe keys already on Kafka (the delivery log), so a frame is never forwarded twice. */
  deliveries: { has(key: string): boolean; remember(key: string): void };
  maxBatchRecords: number;
  maxBatchBytes: number;
  /** Resolves once the delivery log is restored from Kafka; nothing is forwarded before. */
  ready: Promise<void>;
  /**
   * Awaited before each batch: the live publisher's batch in flight settles first, so a
   * delivery that timed out there (and was spooled) but landed after all is known as landed.
   */
  beforeBatch?: () => Promise<void>;
  /**
   * Re-read which deliveries are on Kafka (the delivery log read to its end). Called after a
   * failed forward, once the abandoned send has had `abandonedSendMs` to end: a publish that
   * timed out may still have been written (the bus gives up waiting, not the send), and its
   * dedupe markers travel in the same batch, so they tell which deliveries not to send again.
   */
  resync?: () => Promise<void>;
  /** How long an abandoned send can still land (the Kafka client's bounded retries). */
  abandonedSendMs?: number;
  log?: Logger;
  /** First wait after a failed forward; doubles per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  onForwarded?: (deliveries: number, skipped: number, seconds: number) => void;
  onFailure?: () => void;
  onDamaged?: () => void;
}

/**
 * Drains the spool to Kafka, oldest first, in batches of whole deliveries (a delivery's events
 * and its dedupe markers always travel in one publish). It runs only while the spool holds
 * something: woken by an append, it publishes; after a failure it backs off (250 ms doubling to
 * 5 s), then asks the bus whether it is writable (`isReady`, a metadata request) before it tries
 * again, and goes back to waiting while the answer is no. `kick()` — called whenever a live
 * publish succeeds — cuts a wait short, because the bus just proved it is writable. There is no
 * timer while the spool is empty.
 *
 * Exactly once: a delivery is removed from the spool only after Kafka acknowledged it, and a
 * delivery whose dedupe key the delivery log already holds (its markers landed, e.g. before a
 * kill -9 between the acknowledgement and the cursor write) is skipped instead of published.
 */
export class Forwarder {
  readonly #o: Required<
    Omit<
      ForwarderOptions,
      'log' | 'onForwarded' | 'onFailure' | 'onDamaged' | 'beforeBatch' | 'resync'
    >
  > &
    Pick<
      ForwarderOptions,
      'log' | 'onForwarded' | 'onFailure' | 'onDamaged' | 'beforeBatch' | 'resync'
    >;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #closed = false;
  #onClose!: () => void;
  readonly #closing = new Promise<void>((resolve) => (this.#onClose = resolve));
  readonly #unsubscribe: () => void;

  constructor(options: ForwarderOptions) {
    this.#o = { initialBackoffMs: 250, maxBackoffMs: 5000, abandonedSendMs: 6000, ...options };
    // An append starts a drain but does not cut a back-off short: it says nothing about the bus.
    this.#unsubscribe = options.spool.onAppend(() => this.#start());
  }

  /** The bus just took a write: start draining, and end a back-off wait early. */
  kick(): void {
    if (this.#closed) return;
    this.#wake?.();
    this.#start();
  }

  #start(): void {
    if (this.#closed || this.#running || this.#o.spool.waiting === 0) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      // An append may have landed between the last check and the end of the loop.
      this.#start();
    });
  }

  /** Resolves when the spool is empty (or the forwarder closed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stop after the publish in progress; what is left stays in the spool for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#onClose();
    this.#unsubscribe();
    this.#wake?.();
    await this.idle();
  }

  async #drain(): Promise<void> {
    await Promise.race([this.#o.ready, this.#closing]);
    let failures = 0;
    while (!this.#closed && this.#o.spool.waiting > 0) {
      const started = performance.now();
      try {
        await this.#o.beforeBatch?.();
        const batch = await this.#o.spool.peek(this.#o.maxBatchRecords, this.#o.maxBatchBytes);
        for (const b of batch) {
          // Checked when written and when opened; damage since is the disk's. Waiting on it
          // would hold every delivery behind it forever, so it is reported and passed over.
          if (b.damage !== undefined) {
            this.#o.log?.error(
              { frame: b.damage, keys: b.entry.keys },
              'spool: a frame was damaged on disk after it was written; its delivery is not forwarded',
            );
            this.#o.onDamaged?.();
          }
        }
        const fresh = batch.filter(
          (b) => b.delivery !== undefined && !b.entry.keys.some((k) => this.#o.deliveries.has(k)),
        );
        if (fresh.length > 0) await this.#o.bus.publish(fresh.flatMap((b) => b.delivery!.records));
        for (const b of fresh) for (const key of b.entry.keys) this.#o.deliveries.remember(key);
        await this.#o.spool.ack(batch.length);
        this.#o.onForwarded?.(
          fresh.length,
          batch.length - fresh.length - batch.filter((b) => b.damage !== undefined).length,
          (performance.now() - started) / 1000,
        );
        if (failures > 0) {
          this.#o.log?.info({ after: failures }, 'spool: the bus is writable again; forwarding');
        }
        failures = 0;
      } catch (err) {
        failures += 1;
        this.#o.onFailure?.();
        if (failures === 1 || failures % 20 === 0) {
          this.#o.log?.warn(
            { err: (err as Error).message, failures, waiting: this.#o.spool.stats().deliveries },
            'spool: forwarding failed; will retry when the bus is writable',
          );
        }
        await this.#waitUntilWritable(failures);
        if (this.#o.resync && !this.#closed) {
          await this.#sleep(this.#o.abandonedSendMs);
          await this.#o
            .resync()
            .catch((e: unknown) =>
              this.#o.log?.warn(
                { err: (e as Error).message },
                'spool: delivery log re-read failed',
              ),
            );
        }
      }
    }
  }

  async #waitUntilWritable(failures: number): Promise<void> {
    for (let n = failures; !this.#closed; n++) {
      const ms = Math.min(this.#o.maxBackoffMs, this.#o.initialBackoffMs * 2 ** (n - 1));
      const kicked = await this.#sleep(ms);
      if (kicked || this.#closed) return;
      if (await this.#o.bus.isReady().catch(() => false)) return;
    }
  }

  /** Resolves true when `kick()` ended the wait early. */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(true);
      };
    });
  }
}
