import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type {
  Bus,
  BusRecord,
  ConsumedRecord,
  Subscription,
  TopicPartition,
} from '../../../src/bus/port.js';
import { createTestKafkaBus, hasKafka, uniqueTopic, waitFor } from '../../support/kafka.js';

/**
 * One contract, both adapters: a worker must not be able to tell the memory bus from Kafka.
 * Every test uses fresh topic and group names, so they can share one broker.
 */

const adapters: { name: string; create: () => Bus; skip: boolean }[] = [
  { name: 'memory', create: () => createMemoryBus(), skip: false },
  { name: 'kafka', create: () => createTestKafkaBus(), skip: !hasKafka() },
];

const text = (r: Pick<ConsumedRecord, 'value'>) => r.value?.toString('utf8') ?? null;
const rec = (topic: string, key: string | null, value: string): BusRecord => ({
  topic,
  key,
  value: Buffer.from(value),
  headers: {},
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A group member that records what the bus told it and checks, at every record, that the
 * record's partition was assigned to it (its onAssigned resolved) and not revoked since.
 */
class Member {
  readonly owned = new Set<number>();
  readonly handled: ConsumedRecord[] = [];
  readonly violations: string[] = [];
  readonly events: string[] = [];
  busy = 0;
  private readonly busyIn = new Map<number, number>();
  block: Promise<void> | null = null;
  constructor(
    readonly name: string,
    private readonly journal: string[],
    private readonly assignDelayMs = 0,
    private readonly revokeDelayMs = 0,
  ) {}

  options() {
    return {
      handler: async (r: ConsumedRecord) => {
        if (!this.owned.has(r.partition)) {
          this.violations.push(`${this.name} handled ${r.partition}/${r.offset} without owning it`);
        }
        this.busy++;
        this.busyIn.set(r.partition, (this.busyIn.get(r.partition) ?? 0) + 1);
        try {
          if (this.block) await this.block;
          this.handled.push(r);
          this.journal.push(`${this.name} handled ${r.partition}`);
        } finally {
          this.busy--;
          this.busyIn.set(r.partition, this.busyIn.get(r.partition)! - 1);
        }
      },
      onAssigned: async (partitions: TopicPartition[]) => {
        await sleep(this.assignDelayMs);
        for (const { partition } of partitions) this.owned.add(partition);
        this.journal.push(`${this.name} assigned ${partitions.map((p) => p.partition)}`);
        this.events.push('assigned');
      },
      onRevoked: async (partitions: TopicPartition[]) => {
        for (const { partition } of partitions) {
          if ((this.busyIn.get(partition) ?? 0) > 0) {
            this.violations.push(`${this.name} revoked ${partition} with its handler in flight`);
          }
        }
        await sleep(this.revokeDelayMs);
        for (const { partition } of partitions) this.owned.delete(partition);
        this.journal.push(`${this.name} revoked ${partitions.map((p) => p.partition)}`);
        this.events.push('revoked');
      },
    };
  }
}

describe.each(adapters)(
  'bus contract: $name',
  ({ create, skip }) => {
    let bus: Bus;
    const subs: Subscription[] = [];

    const subscribe = async (
      groupId: string,
      topics: string[],
      handler: (r: ConsumedRecord) => Promise<void>,
    ) => {
      const sub = await bus.subscribe({ groupId, topics, fromBeginning: true, handler });
      subs.push(sub);
      return sub;
    };

    const join = async (groupId: string, topic: string, member: Member) => {
      const sub = await bus.subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        ...member.options(),
      });
      subs.push(sub);
      return sub;
    };

    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.close()));
      await bus?.close();
    });

    const test = it.skipIf(skip);
    const setup = async (partitions = 3) => {
      bus = create();
      const topic = uniqueTopic('contract');
      await bus.ensureTopics([{ topic, partitions }]);
      return topic;
    };

    test('delivers the records of one key in the order they were published', async () => {
      const topic = await setup();
      for (let i = 0; i < 10; i++) {
        await bus.publish(['a', 'b', 'c'].map((k) => rec(topic, k, `${k}${i}`)));
      }
      const seen = new Map<string, string[]>();
      await subscribe(uniqueTopic('g'), [topic], async (r) => {
        seen.set(r.key!, [...(seen.get(r.key!) ?? []), text(r)!]);
      });
      await waitFor(() => [...seen.values()].flat().length === 30, '30 records');
      for (const k of ['a', 'b', 'c']) {
        expect(seen.get(k)).toEqual(Array.from({ length: 10 }, (_, i) => `${k}${i}`));
      }
    });

    test('shares partitions among the members of a group and hands each record to one', async () => {
      const topic = await setup(4);
      const group = uniqueTopic('g');
      const byMember: string[][] = [[], []];
      await subscribe(group, [topic], async (r) => void byMember[0]!.push(text(r)!));
      await subscribe(group, [topic], async (r) => void byMember[1]!.push(text(r)!));
      await bus.publish(Array.from({ length: 40 }, (_, i) => rec(topic, `key-${i}`, `v${i}`)));
      await waitFor(() => byMember.flat().length >= 40, '40 records');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const all = byMember.flat();
      expect(all).toHaveLength(40);
      expect(new Set(all).size).toBe(40);
      expect(byMember[0]!.length).toBeGreaterThan(0);
      expect(byMember[1]!.length).toBeGreaterThan(0);
    });

    test('resumes a restarted subscription after the offsets its group committed', async () => {
      const topic = await setup();
      const group = uniqueTopic('g');
      const first: string[] = [];
      await bus.publish([1, 2, 3].map((i) => rec(topic, 'k', `old${i}`)));
      const sub = await subscribe(group, [topic], async (r) => void first.push(text(r)!));
      await waitFor(() => first.length === 3, 'first 3 records');
      await sub.close();

      await bus.publish([1, 2].map((i) => rec(topic, 'k', `new${i}`)));
      const second: string[] = [];
      await subscribe(group, [topic], async (r) => void second.push(text(r)!));
      await waitFor(() => second.length >= 2, 'the 2 new records');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(first).toEqual(['old1', 'old2', 'old3']);
      expect(second).toEqual(['new1', 'new2']);
    });

    test('redelivers a record whose handler failed, before any later record of its key', async () => {
      const topic = await setup();
      await bus.publish([rec(topic, 'k', 'r1'), rec(topic, 'k', 'r2')]);
      const attempts: string[] = [];
      let failed = false;
      await subscribe(uniqueTopic('g'), [topic], async (r) => {
        attempts.push(text(r)!);
        if (text(r) === 'r1' && !failed) {
          failed = true;
          throw new Error('transient');
        }
      });
      await waitFor(() => attempts.includes('r2'), 'r2');
      expect(attempts).toEqual(['r1', 'r1', 'r2']);
    });

    test('round-trips headers, null keys, null values and binary values', async () => {
      const topic = await setup();
      const binary = Buffer.from([0, 255, 1, 128]);
      const before = Date.now();
      await bus.publish([
        { topic, key: null, value: null, headers: { ce_id: 'x-1', 'content-type': 'a/b' } },
        { topic, key: 'k', value: binary, headers: {} },
      ]);
      const got: ConsumedRecord[] = [];
      await subscribe(uniqueTopic('g'), [topic], async (r) => void got.push(r));
      await waitFor(() => got.length === 2, '2 records');
      const tombstone = got.find((r) => r.value === null)!;
      expect(tombstone).toMatchObject({ topic, key: null, value: null });
      expect(tombstone.headers).toEqual({ ce_id: 'x-1', 'content-type': 'a/b' });
      const bin = got.find((r) => r.key === 'k')!;
      expect(Buffer.compare(bin.value!, binary)).toBe(0);
      expect(bin.headers).toEqual({});
      for (const r of got) {
        expect(r.timestamp).toBeGreaterThanOrEqual(before - 1000);
        expect(r.timestamp).toBeLessThanOrEqual(Date.now() + 1000);
        expect(typeof r.offset).toBe('string');
      }
    });

    test('reads a topic to its end as of the call, and returns at once when it is empty', async () => {
      const topic = await setup();
      const empty: ConsumedRecord[] = [];
      await bus.readToEnd(topic, (r) => empty.push(r));
      expect(empty).toEqual([]);
      await bus.readToEnd(uniqueTopic('missing'), (r) => empty.push(r));
      expect(empty).toEqual([]);

      await bus.publish(Array.from({ length: 12 }, (_, i) => rec(topic, `k${i % 5}`, `v${i}`)));
      const read: string[] = [];
      await bus.readToEnd(topic, (r) => read.push(text(r)!));
      expect(read.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `v${i}`).sort());
    });

    test('creates topics idempotently with the partitions asked for', async () => {
      bus = create();
      const topic = uniqueTopic('contract');
      const spec = { topic, partitions: 4, cleanup: 'compact' as const, retentionMs: 60_000 };
      await bus.ensureTopics([spec]);
      await bus.ensureTopics([spec, { topic: uniqueTopic('contract'), partitions: 1 }]);
      await bus.publish(Array.from({ length: 40 }, (_, i) => rec(topic, `key-${i}`, 'v')));
      const partitions = new Set<number>();
      await bus.readToEnd(topic, (r) => partitions.add(r.partition));
      expect([...partitions].every((p) => p >= 0 && p < 4)).toBe(true);
      expect(partitions.size).toBeGreaterThan(1);
    });

    test('publishes one batch across two topics', async () => {
      const a = await setup();
      const b = uniqueTopic('contract');
      await bus.publish([rec(a, 'k', 'a1'), rec(b, 'k', 'b1'), rec(a, 'k', 'a2')]);
      const readA: string[] = [];
      const readB: string[] = [];
      await bus.readToEnd(a, (r) => readA.push(text(r)!));
      await bus.readToEnd(b, (r) => readB.push(text(r)!));
      expect(readA).toEqual(['a1', 'a2']);
      expect(readB).toEqual(['b1']);
      expect(await bus.isReady()).toBe(true);
    });

    test('writes a record to the partition asked for, whatever its key', async () => {
      const topic = await setup(4);
      await bus.publish(
        [0, 1, 2, 3, 3].map((p) => ({ ...rec(topic, 'same', `p${p}`), toPartition: p })),
      );
      const read: string[] = [];
      await bus.readToEnd(topic, (r) => read.push(`${r.partition}:${text(r)}`));
      expect(read.sort()).toEqual(['0:p0', '1:p1', '2:p2', '3:p3', '3:p3']);
    });

    test('reads only the partitions asked for, each in offset order, to their end', async () => {
      const topic = await setup(4);
      await bus.publish(
        Array.from({ length: 24 }, (_, i) => ({
          ...rec(topic, `k${i}`, `v${i}`),
          toPartition: i % 4,
        })),
      );
      const read: ConsumedRecord[] = [];
      await bus.readPartitionsToEnd(topic, [1, 3], (r) => read.push(r));
      expect(new Set(read.map((r) => r.partition))).toEqual(new Set([1, 3]));
      for (const p of [1, 3]) {
        expect(read.filter((r) => r.partition === p).map(text)).toEqual(
          Array.from({ length: 6 }, (_, j) => `v${p + 4 * j}`),
        );
      }
      const none: ConsumedRecord[] = [];
      await bus.readPartitionsToEnd(topic, [], (r) => none.push(r));
      await bus.readPartitionsToEnd(uniqueTopic('missing'), [0], (r) => none.push(r));
      expect(none).toEqual([]);
    });

    test('splits the partitions between two members and tells each which, before their records', async () => {
      const topic = await setup(4);
      const group = uniqueTopic('g');
      const journal: string[] = [];
      const a = new Member('a', journal, 200);
      const b = new Member('b', journal, 200);
      await join(group, topic, a);
      await join(group, topic, b);
      await bus.publish(Array.from({ length: 40 }, (_, i) => rec(topic, `key-${i}`, `v${i}`)));
      await waitFor(() => a.handled.length + b.handled.length >= 40, '40 records');
      await waitFor(() => a.owned.size + b.owned.size === 4, 'all 4 partitions owned');
      expect([...a.owned].filter((p) => b.owned.has(p))).toEqual([]);
      expect(a.owned.size).toBeGreaterThan(0);
      expect(b.owned.size).toBeGreaterThan(0);
      expect([...a.violations, ...b.violations]).toEqual([]);
      expect(new Set([...a.handled, ...b.handled].map(text)).size).toBe(40);
    });

    test('hands a leaving member’s partitions to the survivor, revoked before assigned', async () => {
      const topic = await setup(4);
      const group = uniqueTopic('g');
      const journal: string[] = [];
      // a takes its time giving the partitions up: b must wait for it.
      const a = new Member('a', journal, 0, 300);
      const b = new Member('b', journal);
      const subA = await join(group, topic, a);
      await join(group, topic, b);
      await bus.publish(Array.from({ length: 20 }, (_, i) => rec(topic, `key-${i}`, `v${i}`)));
      await waitFor(() => a.handled.length + b.handled.length >= 20, 'first 20 records');
      await waitFor(() => a.owned.size > 0 && b.owned.size > 0, 'both members own partitions');
      const leaving = [...a.owned];
      await subA.close();
      expect(a.owned.size).toBe(0);
      await waitFor(() => b.owned.size === 4, 'the survivor owns all 4 partitions');
      await bus.publish(Array.from({ length: 20 }, (_, i) => rec(topic, `key-${i}`, `w${i}`)));
      await waitFor(
        () => b.handled.filter((r) => text(r)!.startsWith('w')).length >= 20,
        '20 more',
      );
      await sleep(300);
      expect([...a.violations, ...b.violations]).toEqual([]);
      expect(a.handled.filter((r) => text(r)!.startsWith('w'))).toEqual([]);
      for (const p of leaving) {
        const revoked = journal.findIndex(
          (e) => e.startsWith('a revoked') && e.split(' ')[2]!.split(',').includes(String(p)),
        );
        const assigned = journal.findIndex(
          (e, i) =>
            i > revoked &&
            e.startsWith('b assigned') &&
            e.split(' ')[2]!.split(',').includes(String(p)),
        );
        expect(revoked).toBeGreaterThanOrEqual(0);
        expect(assigned).toBeGreaterThan(revoked);
        const firstHandled = journal.findIndex((e, i) => i > revoked && e === `b handled ${p}`);
        expect(firstHandled).toBeGreaterThan(assigned);
      }
      // Every record handled once by the group (nothing was in flight when a left).
      expect(new Set([...a.handled, ...b.handled].map(text)).size).toBe(40);
    });

    test('revokes a partition only after its handler in flight settled', async () => {
      const topic = await setup(2);
      const group = uniqueTopic('g');
      const journal: string[] = [];
      const a = new Member('a', journal);
      let release!: () => void;
      a.block = new Promise<void>((resolve) => (release = resolve));
      const subA = await join(group, topic, a);
      await bus.publish([rec(topic, 'k', 'slow')]);
      await waitFor(() => a.busy === 1, 'the handler to start');
      const closing = subA.close();
      await sleep(500);
      expect(a.events.filter((e) => e === 'revoked')).toEqual([]);
      release();
      await closing;
      expect(a.events.at(-1)).toBe('revoked');
      expect(journal.indexOf('a handled 0') + journal.indexOf('a handled 1')).toBeLessThan(
        journal.findIndex((e) => e.startsWith('a revoked')),
      );
      expect(a.violations).toEqual([]);
    });

    test('on a rebalance, revokes only after the handlers in flight settled', async () => {
      const topic = await setup(2);
      const group = uniqueTopic('g');
      const journal: string[] = [];
      const a = new Member('a', journal);
      const b = new Member('b', journal);
      let release!: () => void;
      a.block = new Promise<void>((resolve) => (release = resolve));
      try {
        await join(group, topic, a);
        await waitFor(() => a.owned.size === 2, 'a owning both partitions');
        await bus.publish([0, 1].map((p) => ({ ...rec(topic, 'k', `slow${p}`), toPartition: p })));
        await waitFor(() => a.busy >= 1, 'a handler to start');
        // b joins while a is busy: a must not give anything up before its handlers settled.
        const joining = join(group, topic, b);
        await sleep(1000);
        expect(a.events.filter((e) => e === 'revoked')).toEqual([]);
        a.block = null;
        release();
        await joining;
      } finally {
        release();
      }
      await waitFor(() => a.owned.size === 1 && b.owned.size === 1, 'one partition each');
      await waitFor(() => a.handled.length + b.handled.length >= 2, 'both records handled');
      await sleep(300);
      expect([...a.violations, ...b.violations]).toEqual([]);
      expect([...a.handled, ...b.handled].map(text).sort()).toEqual(['slow0', 'slow1']);
    });

    test('without callbacks a member is told nothing and consumes as before', async () => {
      const topic = await setup(2);
      await bus.publish([rec(topic, 'k', 'x')]);
      const got: string[] = [];
      await subscribe(uniqueTopic('g'), [topic], async (r) => void got.push(text(r)!));
      await waitFor(() => got.length === 1, 'the record');
      expect(got).toEqual(['x']);
    });
  },
  60_000,
);
