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
  /**
   * Write to this partition instead of the one the key hashes to. State changelogs use it to
   * stay co-partitioned with their input whatever the key (Kafka Streams writes changelogs the
   * same way). Deliberately not called `partition`: a consumed record republished as is must not
   * be pinned to the partition it was read from.
   */
  toPartition?: number;
}

/** One partition of one topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
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
  /**
   * Called when partitions become this member's, before the first record of any of them is
   * handled by it (a record of a partition waits until the promise resolves: restore state
   * here). A rejection is retried with backoff; the partitions' records wait meanwhile.
   */
  onAssigned?: (partitions: TopicPartition[]) => Promise<void>;
  /**
   * Called when partitions stop being this member's (rebalance, close), after the last handler
   * of each of them settled; no handler of them runs on this member afterwards, until an
   * `onAssigned` gives them back, and that waits for this promise. It may overlap an
   * `onAssigned` of the same partitions still running (a restore cut short by a rebalance), so
   * whoever must stop writing should do so synchronously, at the start of the call.
   * Without these callbacks a subscription behaves as before they existed.
   */
  onRevoked?: (partitions: TopicPartition[]) => Promise<void>;
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
  /**
   * `readToEnd` for some partitions of a topic only, read in parallel, each in offset order:
   * how a member restores the changelog partitions it was just assigned.
   */
  readPartitionsToEnd(
    topic: string,
    partitions: readonly number[],
    onRecord: (record: ConsumedRecord) => void,
  ): Promise<void>;
  /** True while the bus can accept writes (for /readyz). */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}
