import type { BusRecord } from '../bus/port.js';
import { BusUnavailableError } from '../errors.js';
import type { Forwarder } from './forwarder.js';
import type { Spool } from './spool.js';

/** Where an acknowledged delivery is: on Kafka (acks=all), or fsynced in this receiver's spool. */
export type Durability = 'kafka' | 'spooled';

export interface DurablePublisherOptions {
  /** The live path: group commit to the bus within the publish deadline. */
  publisher: {
    publish(
      records: BusRecord[],
      timeoutMs?: number,
      onLate?: (written: boolean) => void,
    ): Promise<void>;
  };
  /**
   * Marks dedupe keys as on Kafka (the delivery log): a delivery that timed out in flight and was
   * spooled, but whose batch then landed after all, must not be forwarded a second time.
   */
  landed?: (key: string) => void;
  spool: Spool;
  forwarder: Pick<Forwarder, 'kick'>;
  /** False until the delivery log is restored from Kafka: until then everything is spooled. */
  live: () => boolean;
  clock?: () => number;
  onSpooled?: () => void;
}

/**
 * "Acknowledged" for the receiver: a delivery is answered 202 once it is on Kafka with acks=all,
 * or — when the bus does not acknowledge within the publish deadline — once it is fsynced in
 * the spool, from where the forwarder moves it to Kafka.
 *
 * While the spool holds anything, new deliveries are appended behind it rather than published
 * directly, so events reach Kafka in the order they were accepted.
 */
export class DurablePublisher {
  readonly #o: DurablePublisherOptions;

  constructor(options: DurablePublisherOptions) {
    this.#o = options;
  }

  /** A delivery with this dedupe key waits in the spool (it is a duplicate). */
  holds(key: string): boolean {
    return this.#o.spool.holds(key);
  }

  /**
   * @throws SpoolFullError (503) when the bus is unavailable and the spool is full;
   *   BusUnavailableError (503) when the spool cannot write either.
   */
  async publish(records: BusRecord[], keys: string[], timeoutMs: number): Promise<Durability> {
    if (this.#o.live() && this.#o.spool.empty) {
      try {
        await this.#o.publisher.publish(records, timeoutMs, (written) => {
          if (written) for (const key of keys) this.#o.landed?.(key);
        });
        this.#o.forwarder.kick();
        return 'kafka';
      } catch (err) {
        if (!(err instanceof BusUnavailableError)) throw err;
      }
    }
    await this.#o.spool.append({ keys, at: this.#o.clock?.() ?? Date.now(), records });
    this.#o.onSpooled?.();
    return 'spooled';
  }
}
