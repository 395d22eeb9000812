import { randomUUID } from 'node:crypto';
import {
  AssignerProtocol,
  Kafka,
  logLevel,
  PartitionAssigners,
  Partitioners,
  type Admin,
  type PartitionAssigner,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type SASLOptions,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from 'pino';
import { BusUnavailableError, coerceError } from '../errors.js';
import type {
  Bus,
  BusRecord,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
  TopicSpec,
} from './port.js';

/**
 * The Kafka adapter of the bus port, on kafkajs 2.2.4.
 *
 * Publishing: one idempotent producer (acks=all). kafkajs has no linger and its idempotent
 * sequence numbers break when several produce requests for a partition are queued at once
 * (kafkajs#598), so exactly one `sendBatch` is in flight; publishes that arrive meanwhile are
 * coalesced into the next one (group commit). After any failed or timed-out send the producer is
 * replaced: a send whose outcome is unknown must not be followed by the same producer id and
 * sequence numbers, or the broker could take a new batch for a duplicate of the old one.
 *
 * @module
 */

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  ssl?: boolean;
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    username: string;
    password: string;
  };
  /** kafkajs warnings and errors go here; without it kafkajs is silent. */
  log?: Logger;
  /** A publish not acknowledged within this rejects with BusUnavailableError. Default 5 s. */
  publishTimeoutMs?: number;
  /** Partitions one subscription handles at once (order is kept within each). Default 1. */
  consumeConcurrency?: number;
  /** Consumer liveness; lower values make rebalances (join/leave) faster. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
}

/** Below Kafka's default message.max.bytes (1 MiB) with room for headers and framing. */
const MAX_BATCH_BYTES = 900_000;
const RETRY_AFTER_SECONDS = 5;
const READY_TIMEOUT_MS = 2000;
const JOIN_TIMEOUT_MS = 30_000;
const MAX_REDELIVERY_BACKOFF_MS = 5000;

interface PendingPublish {
  records: BusRecord[];
  resolve: () => void;
  reject: (err: Error) => void;
  settled: boolean;
  timer: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function kafkajsLogCreator(log: Logger) {
  const child = log.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, ...extra } = entry;
      const fields = { namespace, ...extra };
      if (level === logLevel.ERROR) child.error(fields, message);
      else if (level === logLevel.WARN) child.warn(fields, message);
      else child.debug(fields, message);
    };
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

function toConsumed(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value,
    headers: headersToStrings(message.headers),
  };
}

function groupByTopic(records: BusRecord[]): TopicMessages[] {
  const byTopic = new Map<string, TopicMessages>();
  for (const r of records) {
    let entry = byTopic.get(r.topic);
    if (!entry) byTopic.set(r.topic, (entry = { topic: r.topic, messages: [] }));
    entry.messages.push({
      key: r.key,
      value: r.value,
      headers: r.headers,
      ...(r.toPartition === undefined ? {} : { partition: r.toPartition }),
    });
  }
  return [...byTopic.values()];
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly log: Logger | undefined;
  private readonly publishTimeoutMs: number;
  private readonly sessionTimeoutMs: number;
  private readonly consumeConcurrency: number;
  private readonly heartbeatIntervalMs: number;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private queue: PendingPublish[] = [];
  private sending = false;
  private generation = 0;
  private readonly consumers = new Set<Consumer>();
  private closing: Promise<void> | null = null;

  constructor(options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('[changegate/bus/kafka] brokers required');
    this.log = options.log;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.consumeConcurrency = options.consumeConcurrency ?? 1;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'changegate',
      brokers: options.brokers,
      ssl: options.ssl,
      sasl: options.sasl as SASLOptions | undefined,
      connectionTimeout: 3000,
      // Short client retries: the publish timeout, not kafkajs, decides when to give up.
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
      logLevel: options.log ? logLevel.WARN : logLevel.NOTHING,
      ...(options.log ? { logCreator: kafkajsLogCreator(options.log) } : {}),
    });
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const admin = await this.getAdmin();
    const existing = new Set(await admin.listTopics());
    const topics = specs
      .filter((s) => !existing.has(s.topic))
      .map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: -1,
        configEntries: [
          ...(s.cleanup ? [{ name: 'cleanup.policy', value: s.cleanup }] : []),
          ...(s.retentionMs ? [{ name: 'retention.ms', value: String(s.retentionMs) }] : []),
        ],
      }));
    if (topics.length === 0) return;
    try {
      // Resolves false (no throw) for topics that another process created in the meantime.
      await retryRetriable(() => admin.createTopics({ topics, waitForLeaders: true }));
    } catch (err) {
      if (!String(coerceError(err).message).includes('already exists')) throw err;
    }
  }

  publish(records: BusRecord[]): Promise<void> {
    if (this.closing) return Promise.reject(this.unavailable('bus is closed'));
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = {
        records,
        resolve,
        reject,
        settled: false,
        timer: setTimeout(() => {
          this.settle(
            pending,
            this.unavailable(`no acknowledgement within ${this.publishTimeoutMs} ms`),
          );
          // The send in flight may be stuck in kafkajs retries; stop waiting for it.
          if (this.sending) this.resetProducer();
        }, this.publishTimeoutMs),
      };
      this.queue.push(pending);
      void this.drain();
    });
  }

  private settle(pending: PendingPublish, err?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve();
  }

  private unavailable(reason: string, cause?: unknown): BusUnavailableError {
    return new BusUnavailableError(`[changegate/bus/kafka] ${reason}`, {
      cause,
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }

  /**
   * Send everything queued as one sendBatch; loop while more arrived during the send. A reset
   * (failure or timeout) bumps the generation, which ends this loop and frees the queue.
   */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    const generation = this.generation;
    try {
      while (generation === this.generation && this.queue.length > 0) {
        const batch = this.takeBatch();
        if (batch.length === 0) continue;
        try {
          const producer = await this.getProducer();
          const topicMessages = groupByTopic(batch.flatMap((b) => b.records));
          await producer.sendBatch({ topicMessages, acks: -1 });
          for (const b of batch) this.settle(b);
        } catch (err) {
          const reason = coerceError(err).message;
          for (const b of batch) this.settle(b, this.unavailable(`publish failed: ${reason}`, err));
          if (generation === this.generation) this.resetProducer();
        }
      }
    } finally {
      if (generation === this.generation) this.sending = false;
    }
  }

  /**
   * Whole publishes, oldest first, up to MAX_BATCH_BYTES (at least one): one produce request
   * must stay under the broker's message.max.bytes however many publishers share the bus.
   */
  private takeBatch(): PendingPublish[] {
    const batch: PendingPublish[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.settled) {
        this.queue.shift();
        continue;
      }
      const size = next.records.reduce(
        (n, r) => n + (r.value?.length ?? 0) + (r.key?.length ?? 0),
        0,
      );
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      this.queue.shift();
      batch.push(next);
      bytes += size;
    }
    return batch;
  }

  private getProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        // The Java client's murmur2 partitioner, chosen explicitly (kafkajs warns otherwise), so
        // other producers of these topics place a key on the same partition.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded, unlike the idempotent default (MAX_SAFE_INTEGER): an abandoned send must end.
        retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
      });
      const ready = producer.connect().then(() => producer);
      this.producer = ready;
      ready.catch(() => {
        if (this.producer === ready) this.producer = null;
      });
    }
    return this.producer;
  }

  private resetProducer(): void {
    this.generation++;
    const old = this.producer;
    this.producer = null;
    // The in-flight send (if any) is abandoned; free the queue for the next producer.
    this.sending = false;
    old?.then((p) => p.disconnect()).catch(() => undefined);
    if (this.queue.length > 0) void this.drain();
  }

  private getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      const ready = admin.connect().then(() => admin);
      this.admin = ready;
      ready.catch(() => {
        if (this.admin === ready) this.admin = null;
      });
    }
    return this.admin;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closing) throw new Error('[changegate/bus/kafka] bus is closed');
    const { onAssigned, onRevoked } = options;
    const ownership =
      onAssigned || onRevoked
        ? new PartitionOwnership(options.topics, { onAssigned, onRevoked }, this.log)
        : null;
    const consumer = this.newConsumer(
      options.groupId,
      ownership ? [announceJoins(() => ownership.revokeAll())] : undefined,
    );
    let stopping = false;
    this.consumers.add(consumer);
    const joined = new Promise<void>((resolve) =>
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        if (ownership && !stopping) ownership.assign(e.payload.memberAssignment);
        resolve();
      }),
    );
    if (ownership) {
      // A stopped or crashed consumer owns nothing; a restart joins again (and is assigned).
      consumer.on(consumer.events.STOP, () => ownership.revokeAll());
      consumer.on(consumer.events.CRASH, () => ownership.revokeAll());
    }
    try {
      await consumer.connect();
      await consumer.subscribe({
        topics: options.topics,
        fromBeginning: options.fromBeginning ?? false,
      });
      await consumer.run({
        autoCommit: true,
        partitionsConsumedConcurrently: this.consumeConcurrency,
        // Offsets are resolved by kafkajs only after eachMessage resolves; so only handled
        // records are ever committed.
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          const record = toConsumed(topic, partition, message);
          const owner = ownership?.claim(topic, partition);
          if (owner) await owner.ready(heartbeat, this.heartbeatIntervalMs);
          const owned = () => !owner || owner.current();
          for (let attempt = 1; ; attempt++) {
            try {
              if (!owned()) throw new Error(`${topic}/${partition} is no longer this member's`);
              await (owner ? owner.track(options.handler(record)) : options.handler(record));
              return;
            } catch (err) {
              // Retry in place rather than throwing to kafkajs: it keeps the partition in order
              // and avoids kafkajs' crash-and-restart cycle; a throw here (on close or when the
              // group rebalances) leaves the offset unresolved, so the record is redelivered.
              if (stopping || this.closing || !owned()) throw err;
              this.log?.warn(
                {
                  err,
                  topic,
                  partition,
                  offset: message.offset,
                  attempt,
                  groupId: options.groupId,
                },
                'bus handler failed; redelivering',
              );
              await sleep(Math.min(100 * 2 ** (attempt - 1), MAX_REDELIVERY_BACKOFF_MS));
              if (stopping || this.closing || !owned()) throw err;
              await heartbeat();
            }
          }
        },
      });
      await withTimeout(joined, JOIN_TIMEOUT_MS, 'consumer did not join its group in time');
    } catch (err) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      throw this.unavailable(`subscribe failed: ${coerceError(err).message}`, err);
    }
    let closed: Promise<void> | null = null;
    return {
      close: () => {
        stopping = true;
        closed ??= (async () => {
          if (ownership) {
            // Give the partitions up before leaving the group, so a member that takes them
            // over after our LeaveGroup finds our onRevoked done: fetch nothing more, let the
            // handlers in flight settle, revoke.
            consumer.pause(options.topics.map((topic) => ({ topic })));
            ownership.revokeAll();
            await ownership.settled();
          }
          await consumer.disconnect();
        })().finally(() => this.consumers.delete(consumer));
        return closed;
      },
    };
  }

  private newConsumer(groupId: string, partitionAssigners?: PartitionAssigner[]): Consumer {
    return this.kafka.consumer({
      groupId,
      ...(partitionAssigners ? { partitionAssigners } : {}),
      sessionTimeout: this.sessionTimeoutMs,
      rebalanceTimeout: this.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatIntervalMs,
      // Bounds how long a disconnect waits for the fetch in flight.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: true,
      retry: { initialRetryTime: 300, maxRetryTime: 3000, retries: 10 },
    });
  }

  async readToEnd(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<void> {
    await this.readPartitions(topic, null, onRecord);
  }

  async readPartitionsToEnd(
    topic: string,
    partitions: readonly number[],
    onRecord: (record: ConsumedRecord) => void,
  ): Promise<void> {
    if (partitions.length === 0) return;
    await this.readPartitions(topic, new Set(partitions), onRecord);
  }

  /** Read `only` (or every) partition of `topic` up to its end as of the call. */
  private async readPartitions(
    topic: string,
    only: ReadonlySet<number> | null,
    onRecord: (record: ConsumedRecord) => void,
  ): Promise<void> {
    const admin = await this.getAdmin();
    if (!(await admin.listTopics()).includes(topic)) return;
    const ends = new Map<number, bigint>();
    // Right after a topic is created or a broker restarts, leadership may still be moving.
    for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic))) {
      if (only && !only.has(p.partition)) continue;
      if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
    }
    if (ends.size === 0) return;
    // kafkajs cannot assign partitions by hand: a throwaway group whose assigner hands its only
    // member exactly these partitions reads them (one fetch covers them all, so in parallel),
    // and is deleted after.
    const groupId = `changegate-read-${randomUUID()}`;
    const consumer = this.newConsumer(groupId, [fixedAssignment(topic, [...ends.keys()])]);
    this.consumers.add(consumer);
    const remaining = new Set(ends.keys());
    try {
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(coerceError(e.payload.error)));
        const reached = (partition: number, offset: bigint) => {
          if (offset < ends.get(partition)! - 1n) return;
          remaining.delete(partition);
          if (remaining.size === 0) resolve();
        };
        consumer
          .connect()
          .then(() => consumer.subscribe({ topics: [topic], fromBeginning: true }))
          .then(() =>
            consumer.run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                const end = ends.get(batch.partition);
                if (end === undefined || !remaining.has(batch.partition)) return;
                for (const message of batch.messages) {
                  if (BigInt(message.offset) >= end) break;
                  onRecord(toConsumed(topic, batch.partition, message));
                }
                // The batch's last offset survives compaction and covers a compacted tail.
                reached(batch.partition, BigInt(batch.lastOffset()));
              },
            }),
          )
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      this.consumers.delete(consumer);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  async isReady(): Promise<boolean> {
    if (this.closing) return false;
    try {
      const admin = await withTimeout(this.getAdmin(), READY_TIMEOUT_MS, 'admin connect timeout');
      await withTimeout(admin.describeCluster(), READY_TIMEOUT_MS, 'metadata timeout');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const p of this.queue) this.settle(p, this.unavailable('bus is closed'));
      this.queue = [];
      await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
      this.consumers.clear();
      await this.producer?.then((p) => p.disconnect()).catch(() => undefined);
      await this.admin?.then((a) => a.disconnect()).catch(() => undefined);
      this.producer = null;
      this.admin = null;
    })();
    return this.closing;
  }
}

/** Create the Kafka bus; connections open lazily on first use. */
export function createKafkaBus(options: KafkaBusOptions): KafkaBus {
  return new KafkaBus(options);
}

/**
 * Retry what kafkajs marks retriable (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE, …) for a
 * bounded time; anything else, or the last failure, is thrown.
 */
async function retryRetriable<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const retriable = (err as { retriable?: unknown }).retriable === true;
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * Which partitions one subscription owns, and when it got and gave them up.
 *
 * kafkajs 2.2.4 has no revocation callback, so it is derived. kafkajs uses the eager protocol:
 * a member that rejoins gives up everything it had, and the coordinator hands the partitions to
 * anyone only once every member has sent its JoinGroup. So the moment a member gives its
 * partitions up is the moment it prepares its JoinGroup — which is when kafkajs calls the
 * assigner's `protocol()` (consumerGroup.js `[PRIVATE.JOIN]`), on every path: the REBALANCING
 * path, the UNKNOWN_MEMBER_ID path (which emits no event at all), a restart after a crash. The
 * REBALANCING event would miss the second, and GROUP_JOIN comes after SyncGroup — too late, a
 * new owner may already be working. By then the handlers have settled: fetcher.js awaits
 * `workerQueue.push` (every batch settled) and fetchManager.js stops every fetcher before the
 * runner rejoins (runner.js `scheduleFetchManager`). GROUP_JOIN then carries the new
 * `memberAssignment` (emitted after SyncGroup, before the next fetch) and is the assignment.
 * STOP and CRASH revoke too; `close()` revokes before LeaveGroup, after pausing and letting the
 * handlers in flight settle. An `eachBatch` ownership check alone could not see a revocation
 * while the member is idle (no records), when timers still run.
 */
class PartitionOwnership {
  private owned = new Map<string, OwnedPartition>();
  /** The last revocation's onRevoked: assignments wait for it. */
  private revoking: Promise<void> = Promise.resolve();

  constructor(
    private readonly topics: string[],
    private readonly callbacks: Pick<SubscribeOptions, 'onAssigned' | 'onRevoked'>,
    private readonly log: Logger | undefined,
  ) {}

  assign(assignment: Record<string, number[]>): void {
    const partitions: TopicPartition[] = [];
    for (const topic of this.topics) {
      for (const partition of assignment[topic] ?? []) {
        if (!this.owned.has(`${topic}\0${partition}`)) partitions.push({ topic, partition });
      }
    }
    if (partitions.length === 0) return;
    const entries = partitions.map((tp) => new OwnedPartition(this.owned, tp));
    const gone = () => entries.every((e) => !e.current());
    const ready = this.revoking.then(() => this.callAssigned(partitions, gone));
    for (const e of entries) {
      e.readyPromise = ready;
      this.owned.set(e.key, e);
    }
  }

  private async callAssigned(partitions: TopicPartition[], gone: () => boolean): Promise<void> {
    const { onAssigned } = this.callbacks;
    if (!onAssigned) return;
    for (let attempt = 1; !gone(); attempt++) {
      try {
        await onAssigned(partitions);
        return;
      } catch (err) {
        this.log?.warn({ err, partitions, attempt }, 'onAssigned failed; retrying');
        await sleep(Math.min(100 * 2 ** (attempt - 1), MAX_REDELIVERY_BACKOFF_MS));
      }
    }
  }

  /** Synchronous: from its return on, no record of these partitions starts a handler here. */
  revokeAll(): void {
    const entries = [...this.owned.values()];
    this.owned.clear();
    if (entries.length === 0) return;
    const partitions = entries.map((e) => e.partition);
    const inflight = Promise.all(entries.map((e) => e.idle()));
    const { onRevoked } = this.callbacks;
    this.revoking = this.revoking
      .then(() => inflight)
      .then(() => onRevoked?.(partitions))
      .catch((err: unknown) => this.log?.error({ err, partitions }, 'onRevoked failed'));
  }

  /** The entry of a partition this member owns, or undefined. */
  claim(topic: string, partition: number): OwnedPartition | undefined {
    return this.owned.get(`${topic}\0${partition}`);
  }

  /** Resolves once the last revocation's onRevoked settled. */
  settled(): Promise<void> {
    return this.revoking;
  }
}

class OwnedPartition {
  readonly key: string;
  readyPromise: Promise<void> = Promise.resolve();
  private inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly registry: Map<string, OwnedPartition>,
    readonly partition: TopicPartition,
  ) {
    this.key = `${partition.topic}\0${partition.partition}`;
  }

  current(): boolean {
    return this.registry.get(this.key) === this;
  }

  /** Wait for onAssigned, heartbeating so a long restore does not cost the membership. */
  async ready(heartbeat: () => Promise<void>, intervalMs: number): Promise<void> {
    let done = false;
    const ready = this.readyPromise.then(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([ready, sleep(intervalMs)]);
      if (!done) await heartbeat();
    }
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const forget = () => this.inflight.delete(work);
    work.then(forget, forget);
    return work;
  }

  idle(): Promise<void> {
    return Promise.allSettled([...this.inflight]).then(() => undefined);
  }
}

/** The default RoundRobin assigner (same protocol name and metadata), telling us of each join. */
function announceJoins(onJoinPrepare: () => void): PartitionAssigner {
  return (config) => {
    const inner = PartitionAssigners.roundRobin(config);
    return {
      name: inner.name,
      version: inner.version,
      assign: (group) => inner.assign(group),
      protocol: (subscription) => {
        onJoinPrepare();
        return inner.protocol(subscription);
      },
    };
  };
}

/** An assigner giving the first member exactly `partitions` of `topic` (a private read group). */
function fixedAssignment(topic: string, partitions: number[]): PartitionAssigner {
  const name = 'ChangegateFixedAssigner';
  return () => ({
    name,
    version: 0,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: i === 0 ? { [topic]: partitions } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol: ({ topics }) => ({
      name,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    }),
  });
}
