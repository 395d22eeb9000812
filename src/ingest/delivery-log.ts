import type { Bus, BusRecord, ConsumedRecord, Subscription } from '../bus/port.js';
import type { Logger } from '../log.js';

export interface DeliveryLogOptions {
  bus: Bus;
  /** Compacted topic of `<route>:<delivery id>` markers. */
  topic: string;
  windowMs: number;
  maxEntries: number;
  clock?: () => number;
  log?: Logger;
}

/**
 * Which deliveries were already accepted, so a redelivery is answered 200 without a second
 * event. Markers are written to a compacted Kafka topic in the same produce request as the
 * event itself, so the log survives a restart (`restore()` replays the topic) and every
 * receiver replica learns of the others' deliveries (`follow()`).
 *
 * Two replicas that receive the same delivery at the same instant may both publish it; the
 * CloudEvent id is the delivery id, so consumers drop the second copy. The window bounds memory:
 * entries older than `windowMs` or beyond `maxEntries` (oldest first) are forgotten.
 */
export class DeliveryLog {
  readonly #options: DeliveryLogOptions;
  readonly #seen = new Map<string, number>();
  #subscription: Subscription | undefined;

  constructor(options: DeliveryLogOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#seen.size;
  }

  has(key: string): boolean {
    const at = this.#seen.get(key);
    if (at === undefined) return false;
    if (this.#now() - at > this.#options.windowMs) {
      this.#seen.delete(key);
      return false;
    }
    return true;
  }

  /** The marker to publish together with the delivery's events. */
  marker(key: string): BusRecord {
    return {
      topic: this.#options.topic,
      key,
      value: Buffer.from(JSON.stringify({ at: this.#now() })),
      headers: {},
    };
  }

  /** Call once the marker is acknowledged by the bus. */
  remember(key: string, at = this.#now()): void {
    // Re-insert so Map order stays oldest-first for eviction.
    this.#seen.delete(key);
    this.#seen.set(key, at);
    this.#evict();
  }

  /** Rebuild the window from the topic; call before accepting deliveries. */
  async restore(): Promise<number> {
    const before = this.#seen.size;
    await this.#options.bus.readToEnd(this.#options.topic, (record) => this.#apply(record));
    return this.#seen.size - before;
  }

  /** Keep learning markers written by other replicas. `groupId` must be unique per replica. */
  async follow(groupId: string): Promise<void> {
    this.#subscription = await this.#options.bus.subscribe({
      groupId,
      topics: [this.#options.topic],
      fromBeginning: false,
      handler: async (record) => this.#apply(record),
    });
  }

  async close(): Promise<void> {
    await this.#subscription?.close();
    this.#subscription = undefined;
  }

  #apply(record: ConsumedRecord): void {
    if (!record.key) return;
    if (record.value === null) {
      this.#seen.delete(record.key);
      return;
    }
    let at = record.timestamp;
    try {
      const parsed = JSON.parse(record.value.toString('utf8')) as { at?: unknown };
      if (typeof parsed.at === 'number') at = parsed.at;
    } catch {
      this.#options.log?.warn(
        { key: record.key },
        'unreadable delivery-log marker; using its timestamp',
      );
    }
    if (this.#now() - at <= this.#options.windowMs) this.remember(record.key, at);
  }

  #evict(): void {
    const excess = this.#seen.size - this.#options.maxEntries;
    if (excess <= 0) return;
    let n = 0;
    for (const key of this.#seen.keys()) {
      if (n++ >= excess) break;
      this.#seen.delete(key);
    }
  }

  #now(): number {
    return this.#options.clock ? this.#options.clock() : Date.now();
  }
}
