/**
 * The bus port. Receivers, workers and tools talk to it; `kafka.ts` (kafkajs) and `memory.ts`
 * (embedded, same semantics) implement it. One contract suite (test/integration/bus) runs
 * against both, so a worker behaves the same on either.
 *
 * @module
 */

export interface BusRecord {
  topic: string;
  /** Records with one key go to one partition and are consumed in order. */
  key: string | null;
  /** `null` is a tombstone on compacted topics. */
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ConsumedRecord extends BusRecord {
  partition: number;
  offset: string;
  /** Broker timestamp, ms since epoch. */
  timestamp: number;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** `compact` keeps the last record per key (state changelogs, delivery log). */
  cleanup?: 'delete' | 'compact';
  retentionMs?: number;
}

export interface SubscribeOptions {
  /** Consumer group: members share partitions; each record is handled by one member. */
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. Default: latest. */
  fromBeginning?: boolean;
  /**
   * Called one record at a time per partition, in offset order. The offset is committed only
   * after the promise resolves; a rejection redelivers the record (at-least-once).
   */
  handler: (record: ConsumedRecord) => Promise<void>;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: 'kafka' | 'memory';
  /** Create the topics that do not exist yet (idempotent). */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /**
   * Write records; resolves only once every one is durably acknowledged (acks=all).
   * @throws BusUnavailableError when the broker cannot take them.
   */
  publish(records: BusRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Read a topic from its beginning up to its end as of the call, then resolve. Used to restore
   * compacted state (gate state, delivery log) at start.
   */
  readToEnd(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<void>;
  /** True while the bus can accept writes (for /readyz). */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}
