import { BusUnavailableError } from '../errors.js';
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
 * The embedded bus: Kafka's semantics in one process, for `--embedded`, the demo and tests.
 * Topics have partitions; a key always lands on one partition; each partition is delivered in
 * offset order, one record at a time, to exactly one member of a consumer group; a group
 * commits an offset only after the handler resolved and resumes there; a rejection redelivers
 * the same record after a backoff. Nothing survives the process.
 *
 * @module
 */

export interface MemoryBusOptions {
  /** Partitions of topics created implicitly (publish/subscribe). Default 3. */
  defaultPartitions?: number;
  /** First redelivery delay after a handler rejection; doubles up to 2 s. Default 50 ms. */
  redeliveryBackoffMs?: number;
}

const MAX_BACKOFF_MS = 2000;
/** Yield to the event loop this often when handlers resolve synchronously. */
const YIELD_EVERY = 64;

interface Worker {
  member: Member;
  revoked: boolean;
  wake: () => void;
  /** Ends once the worker is revoked and its record in flight settled. */
  loop: Promise<void>;
  /** `loop`, then the member's `onRevoked` for this partition: the next owner waits for it. */
  done: Promise<void>;
}

interface Member {
  topics: string[];
  handler: SubscribeOptions['handler'];
  onAssigned: SubscribeOptions['onAssigned'];
  onRevoked: SubscribeOptions['onRevoked'];
  fromBeginning: boolean;
}

interface Group {
  members: Member[];
  /** `topic\0partition` → next offset to deliver. */
  committed: Map<string, number>;
  workers: Map<string, Worker>;
}

const slot = (topic: string, partition: number) => `${topic}\0${partition}`;
const unslot = (key: string): TopicPartition => {
  const [topic, p] = key.split('\0') as [string, string];
  return { topic, partition: Number(p) };
};
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/** FNV-1a over the UTF-8 key: stable across runs, so a key always maps to one partition. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly defaultPartitions: number;
  private readonly backoffMs: number;
  private readonly topics = new Map<string, ConsumedRecord[][]>();
  private readonly roundRobin = new Map<string, number>();
  private readonly groups = new Map<string, Group>();
  /** Wakes idle partition workers when a topic gets records. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private available = true;
  private closed = false;

  constructor({ defaultPartitions = 3, redeliveryBackoffMs = 50 }: MemoryBusOptions = {}) {
    if (!Number.isInteger(defaultPartitions) || defaultPartitions < 1) {
      throw new TypeError('[changegate/bus/memory] defaultPartitions must be a positive integer');
    }
    this.defaultPartitions = defaultPartitions;
    this.backoffMs = redeliveryBackoffMs;
  }

  /** Test hook: simulate an outage (publish rejects, not ready) or end it. */
  setAvailable(available: boolean): void {
    this.available = available;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.topic(spec.topic, spec.partitions);
  }

  private topic(name: string, partitions = this.defaultPartitions): ConsumedRecord[][] {
    let log = this.topics.get(name);
    if (!log) {
      log = Array.from({ length: partitions }, () => []);
      this.topics.set(name, log);
    }
    return log;
  }

  async publish(records: BusRecord[]): Promise<void> {
    if (this.closed || !this.available) {
      throw new BusUnavailableError(
        `[changegate/bus/memory] ${this.closed ? 'bus is closed' : 'bus unavailable (simulated)'}`,
        { retryAfterSeconds: 1 },
      );
    }
    const touched = new Set<string>();
    const timestamp = Date.now();
    for (const r of records) {
      const log = this.topic(r.topic);
      const partition = r.toPartition ?? this.partitionFor(r.topic, r.key, log.length);
      if (!Number.isInteger(partition) || partition < 0 || partition >= log.length) {
        throw new RangeError(
          `[changegate/bus/memory] ${r.topic} has ${log.length} partitions, not ${partition}`,
        );
      }
      const plog = log[partition]!;
      plog.push({
        topic: r.topic,
        key: r.key,
        // Copies, so a caller reusing its buffers or header objects cannot change the log.
        value: r.value === null ? null : Buffer.from(r.value),
        headers: { ...r.headers },
        partition,
        offset: String(plog.length),
        timestamp,
      });
      touched.add(r.topic);
    }
    for (const t of touched) this.notify(t);
  }

  private partitionFor(topic: string, key: string | null, partitions: number): number {
    if (key !== null) return hashKey(key) % partitions;
    const next = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, next + 1);
    return next % partitions;
  }

  private notify(topic: string): void {
    const set = this.waiters.get(topic);
    if (!set) return;
    this.waiters.delete(topic);
    for (const wake of set) wake();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new BusUnavailableError('[changegate/bus/memory] bus is closed');
    for (const t of options.topics) this.topic(t);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = { members: [], committed: new Map(), workers: new Map() };
      this.groups.set(options.groupId, group);
    }
    const member: Member = {
      topics: [...options.topics],
      handler: options.handler,
      onAssigned: options.onAssigned,
      onRevoked: options.onRevoked,
      fromBeginning: options.fromBeginning ?? false,
    };
    group.members.push(member);
    this.rebalance(group);
    let closing: Promise<void> | null = null;
    const g = group;
    return {
      close: () => {
        closing ??= (async () => {
          const i = g.members.indexOf(member);
          if (i >= 0) g.members.splice(i, 1);
          const mine = [...g.workers.values()].filter((w) => w.member === member);
          this.rebalance(g);
          await Promise.all(mine.map((w) => w.done));
        })();
        return closing;
      },
    };
  }

  /**
   * Spread every partition of the group's topics over the members subscribed to that topic
   * (in join order). A partition that changes owner is handed over only after the old owner's
   * record in flight finished and its `onRevoked` settled, and the new owner handles nothing of
   * it before its `onAssigned` resolved — the ordering the Kafka adapter gives. Partitions that
   * keep their owner see no callback (Kafka's eager protocol revokes and reassigns them; a
   * callback user must not depend on either).
   */
  private rebalance(group: Group): void {
    const wanted = new Map<string, Member>();
    const topics = new Set(group.members.flatMap((m) => m.topics));
    for (const topic of topics) {
      const members = group.members.filter((m) => m.topics.includes(topic));
      const log = this.topic(topic);
      for (let p = 0; p < log.length; p++) wanted.set(slot(topic, p), members[p % members.length]!);
    }
    const revoking = new Map<Member, { keys: string[]; workers: Worker[] }>();
    for (const [key, worker] of group.workers) {
      if (!worker.revoked && wanted.get(key) !== worker.member) {
        worker.revoked = true;
        worker.wake();
        const entry = revoking.get(worker.member) ?? { keys: [], workers: [] };
        revoking.set(worker.member, entry);
        entry.keys.push(key);
        entry.workers.push(worker);
      }
    }
    for (const [member, { keys, workers }] of revoking) {
      const revoked = Promise.all(workers.map((w) => w.loop)).then(() =>
        member.onRevoked?.(keys.map(unslot)).catch(() => undefined),
      );
      for (const w of workers) w.done = revoked.then(() => undefined);
    }
    const assigning = new Map<Member, { key: string; previous: Promise<void> }[]>();
    for (const [key, member] of wanted) {
      const current = group.workers.get(key);
      if (current && !current.revoked && current.member === member) continue;
      const list = assigning.get(member) ?? [];
      assigning.set(member, list);
      list.push({ key, previous: current?.done ?? Promise.resolve() });
    }
    for (const [member, list] of assigning) {
      const workers: Worker[] = [];
      const assigned = Promise.all(list.map((a) => a.previous)).then(() =>
        this.assign(
          member,
          list.map((a) => unslot(a.key)),
          () => workers.every((w) => w.revoked),
        ),
      );
      for (const { key } of list) {
        const { topic, partition } = unslot(key);
        const worker = this.startWorker(group, member, topic, partition, assigned);
        workers.push(worker);
        group.workers.set(key, worker);
      }
    }
    for (const [key, worker] of group.workers) {
      if (worker.revoked && !wanted.has(key)) group.workers.delete(key);
    }
  }

  /** `onAssigned`, retried with backoff until it resolves or the partitions are gone again. */
  private async assign(
    member: Member,
    partitions: TopicPartition[],
    gone: () => boolean,
  ): Promise<void> {
    if (!member.onAssigned) return;
    for (let attempt = 1; !gone() && !this.closed; attempt++) {
      try {
        await member.onAssigned(partitions);
        return;
      } catch {
        await new Promise((r) =>
          setTimeout(r, Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS)),
        );
      }
    }
  }

  private startWorker(
    group: Group,
    member: Member,
    topic: string,
    partition: number,
    assigned: Promise<void>,
  ): Worker {
    const key = slot(topic, partition);
    if (!group.committed.has(key)) {
      // Like auto.offset.reset: only a group with no committed offset looks at fromBeginning,
      // and "latest" is the end when the member joined, not when its onAssigned resolved.
      group.committed.set(key, member.fromBeginning ? 0 : this.topic(topic)[partition]!.length);
    }
    let wakeUp: (() => void) | null = null;
    const worker: Worker = {
      member,
      revoked: false,
      wake: () => wakeUp?.(),
      loop: Promise.resolve(),
      done: Promise.resolve(),
    };
    worker.loop = assigned.then(() =>
      this.runWorker(group, worker, topic, partition, (w) => (wakeUp = w)),
    );
    worker.done = worker.loop;
    return worker;
  }

  private async runWorker(
    group: Group,
    worker: Worker,
    topic: string,
    partition: number,
    setWake: (wake: (() => void) | null) => void,
  ): Promise<void> {
    const key = slot(topic, partition);
    const plog = this.topic(topic)[partition]!;
    let delivered = 0;
    let attempt = 0;
    while (!worker.revoked && !this.closed) {
      const offset = group.committed.get(key)!;
      const record = plog[offset];
      if (!record) {
        await this.waitForRecords(topic, setWake);
        continue;
      }
      try {
        await worker.member.handler({ ...record, headers: { ...record.headers } });
        group.committed.set(key, offset + 1);
        attempt = 0;
        if (++delivered % YIELD_EVERY === 0) await yieldToLoop();
      } catch {
        attempt++;
        await this.interruptibleSleep(
          Math.min(this.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS),
          setWake,
        );
      }
    }
    setWake(null);
  }

  private waitForRecords(topic: string, setWake: (wake: (() => void) | null) => void) {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(topic);
      if (!set) this.waiters.set(topic, (set = new Set()));
      const wake = () => {
        set.delete(wake);
        resolve();
      };
      set.add(wake);
      setWake(wake);
    });
  }

  private interruptibleSleep(ms: number, setWake: (wake: (() => void) | null) => void) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      setWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async readToEnd(topic: string, onRecord: (record: ConsumedRecord) => void): Promise<void> {
    const log = this.topics.get(topic);
    if (!log) return;
    await this.readPartitionsToEnd(
      topic,
      log.map((_, p) => p),
      onRecord,
    );
  }

  async readPartitionsToEnd(
    topic: string,
    partitions: readonly number[],
    onRecord: (record: ConsumedRecord) => void,
  ): Promise<void> {
    const log = this.topics.get(topic);
    if (!log) return;
    const wanted = partitions.filter((p) => p >= 0 && p < log.length);
    const ends = wanted.map((p) => log[p]!.length);
    let n = 0;
    for (const [i, p] of wanted.entries()) {
      for (let o = 0; o < ends[i]!; o++) {
        const r = log[p]![o]!;
        onRecord({ ...r, headers: { ...r.headers } });
        if (++n % 1024 === 0) await yieldToLoop();
      }
    }
  }

  async isReady(): Promise<boolean> {
    return this.available && !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const all: Promise<void>[] = [];
    for (const group of this.groups.values()) {
      const workers = [...group.workers.values()];
      group.members = [];
      // Revokes every partition, so members hear `onRevoked` as they would from Kafka.
      this.rebalance(group);
      all.push(...workers.map((w) => w.done));
    }
    this.closed = true;
    await Promise.all(all);
  }
}

/** Create the embedded bus. */
export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  return new MemoryBus(options);
}
