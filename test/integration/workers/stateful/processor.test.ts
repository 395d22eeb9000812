import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryBus } from '../../../../src/bus/memory.js';
import type { Bus, BusRecord } from '../../../../src/bus/port.js';
import {
  createStatefulProcessor,
  type StatefulProcessor,
  type StatefulProcessorOptions,
} from '../../../../src/workers/stateful/index.js';
import { createTestKafkaBus, hasKafka, uniqueTopic, waitFor } from '../../../support/kafka.js';

/**
 * The state kit on both adapters: restore before processing, timers that move with their
 * partition, and fencing of a task that lost its partition. Memory members share one bus;
 * Kafka members each get their own client, as replicas would.
 */

const log = pino({ level: 'silent' });
const Counter = z.object({
  count: z.number().int(),
  by: z.string(),
  fired: z.boolean().default(false),
});
type Counter = z.infer<typeof Counter>;

const adapters = [
  { name: 'memory', kafka: false, skip: false },
  { name: 'kafka', kafka: true, skip: !hasKafka() },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (r: { value: Buffer | null }) => r.value?.toString('utf8') ?? '';

describe.each(adapters)(
  'stateful processor: $name',
  ({ kafka, skip }) => {
    const buses: Bus[] = [];
    const processors: StatefulProcessor<Counter>[] = [];
    let shared: Bus | undefined;
    const newBus = (): Bus => {
      if (!kafka) return (shared ??= createMemoryBus({ defaultPartitions: 4 }));
      const bus = createTestKafkaBus();
      buses.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(processors.splice(0).map((p) => p.close()));
      await shared?.close();
      shared = undefined;
      await Promise.all(buses.splice(0).map((b) => b.close()));
    });

    const names = () => ({
      input: uniqueTopic('kit-in'),
      changelog: uniqueTopic('kit-state'),
      output: uniqueTopic('kit-out'),
      dlq: uniqueTopic('kit-dlq'),
      groupId: uniqueTopic('kit-g'),
    });
    type Names = ReturnType<typeof names>;

    async function start(
      t: Names,
      member: string,
      overrides: Partial<StatefulProcessorOptions<typeof Counter, string>> = {},
    ) {
      const bus = newBus();
      await bus.ensureTopics([
        { topic: t.input, partitions: 4 },
        { topic: t.output, partitions: 4 },
      ]);
      const p = await createStatefulProcessor({
        bus,
        name: `kit-${member}`,
        groupId: t.groupId,
        input: t.input,
        changelog: t.changelog,
        partitions: 4,
        schema: Counter,
        dlqTopic: t.dlq,
        log,
        decode: (r) => text(r),
        overdueGraceMs: 100,
        handle: async (_key, state) => ({
          state: { count: (state?.count ?? 0) + 1, by: member, fired: state?.fired ?? false },
        }),
        ...overrides,
      });
      processors.push(p);
      return { bus, p };
    }

    const rec = (topic: string, key: string, value: string): BusRecord => ({
      topic,
      key,
      value: Buffer.from(value),
      headers: {},
    });
    const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
    const counts = (...ps: StatefulProcessor<Counter>[]) =>
      new Map(ps.flatMap((p) => p.entries()).map(([k, s]) => [k, s.count]));

    it.skipIf(skip)(
      'restores the partitions a member takes over before it handles their records',
      async () => {
        const t = names();
        const a = await start(t, 'a');
        const b = await start(t, 'b');
        await waitFor(
          () =>
            a.p.partitions().length > 0 &&
            b.p.partitions().length > 0 &&
            a.p.partitions().length + b.p.partitions().length === 4,
          'the partitions split between a and b',
        );
        await a.bus.publish(keys.flatMap((k) => [1, 2, 3].map((i) => rec(t.input, k, `${i}`))));
        await waitFor(
          () => [...counts(a.p, b.p).values()].reduce((n, c) => n + c, 0) === 24,
          '24 records counted',
        );
        await a.p.close();
        await waitFor(() => b.p.partitions().length === 4, 'the survivor owns all 4');
        await b.bus.publish(keys.flatMap((k) => [4, 5].map((i) => rec(t.input, k, `${i}`))));
        await waitFor(
          () => [...counts(b.p).values()].reduce((n, c) => n + c, 0) === 40,
          '40 records counted by the survivor',
        );
        // Every key continued from its restored count: none restarted from zero.
        expect(counts(b.p)).toEqual(new Map(keys.map((k) => [k, 5])));
      },
    );

    it.skipIf(skip)(
      'fires a timer once, on the replica that owns its partition when it falls due',
      async () => {
        const t = names();
        const fired: string[] = [];
        const timed = (member: string) => ({
          handle: async (_key: string, state: Counter | undefined) => ({
            state: { count: (state?.count ?? 0) + 1, by: member, fired: false },
            timers: { ping: Date.now() + 2500 },
          }),
          onTimer: async (key: string, state: Counter) => {
            fired.push(`${member}:${key}`);
            return {
              state: { ...state, fired: true },
              emit: [rec(t.output, key, `${member}:${key}`)],
            };
          },
        });
        const a = await start(t, 'a', timed('a'));
        await a.bus.publish(keys.map((k) => rec(t.input, k, '1')));
        await waitFor(() => counts(a.p).size === 8, 'a has every key');
        const b = await start(t, 'b', timed('b'));
        await a.p.close();
        await waitFor(() => b.p.partitions().length === 4, 'b owns all 4');
        await waitFor(() => fired.length >= 8, '8 timers fired', 20_000);
        await sleep(500);
        expect(fired.sort()).toEqual(keys.map((k) => `b:${k}`).sort());
        const out: string[] = [];
        await b.bus.readToEnd(t.output, (r) => out.push(text(r)));
        expect(out.sort()).toEqual(keys.map((k) => `b:${k}`).sort());
        expect(b.p.entries().every(([, s]) => s.fired)).toBe(true);
      },
      60_000,
    );

    it.skipIf(skip)(
      'refuses the write of a timer that was running when its partition was revoked',
      async () => {
        const t = names();
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let started = 0;
        const a = await start(t, 'a', {
          handle: async (_key, state) => ({
            state: { count: (state?.count ?? 0) + 1, by: 'a', fired: false },
            timers: { ping: Date.now() + 300 },
          }),
          onTimer: async (key, state) => {
            started++;
            await gate;
            return { state: { ...state, fired: true }, emit: [rec(t.output, key, `a:${key}`)] };
          },
        });
        await a.bus.publish([rec(t.input, 'only', '1')]);
        await waitFor(() => started === 1, 'the timer to start');
        const closing = a.p.close();
        await sleep(300);
        release();
        await closing;
        const out: string[] = [];
        await a.bus.readToEnd(t.output, (r) => out.push(text(r)));
        expect(out).toEqual([]);
        const states: string[] = [];
        await a.bus.readToEnd(t.changelog, (r) => states.push(text(r)));
        expect(states).toHaveLength(1);
        expect(JSON.parse(states[0]!).state.fired).toBe(false);

        // The next owner restores the timer and fires it.
        const b = await start(t, 'b', {
          onTimer: async (key, state) => ({
            state: { ...state, fired: true, by: 'b' },
            emit: [rec(t.output, key, `b:${key}`)],
          }),
        });
        await waitFor(() => b.p.entries().some(([, s]) => s.fired), 'b fired the timer');
        const after: string[] = [];
        await b.bus.readToEnd(t.output, (r) => after.push(text(r)));
        expect(after).toEqual(['b:only']);
      },
      60_000,
    );

    it.skipIf(skip)(
      'gives a timer set in the past the overdue grace, so a record right behind can cancel it',
      async () => {
        const t = names();
        const fired: string[] = [];
        const a = await start(t, 'a', {
          overdueGraceMs: 1500,
          handle: async (_key, state, event) => ({
            state: { count: (state?.count ?? 0) + 1, by: 'a', fired: false },
            // A record replayed from history sets a reminder that was due long ago.
            timers: { ping: event === 'set' ? Date.now() - 60_000 : null },
          }),
          onTimer: async (key, state) => {
            fired.push(key);
            return { state: { ...state, fired: true } };
          },
        });
        await a.bus.publish([rec(t.input, 'old', 'set')]);
        await waitFor(() => counts(a.p).get('old') === 1, 'the timer set');
        await sleep(300);
        await a.bus.publish([rec(t.input, 'old', 'cancel')]);
        await waitFor(() => counts(a.p).get('old') === 2, 'the timer cancelled');
        await sleep(2000);
        expect(fired).toEqual([]);
      },
    );

    it.skipIf(skip)(
      'counts a record its handler does not take as skipped and keeps no state for it',
      async () => {
        const t = names();
        const outcomes: string[] = [];
        const a = await start(t, 'a', {
          handle: async (_key, state, event) =>
            event === 'not-mine'
              ? undefined
              : { state: { count: (state?.count ?? 0) + 1, by: 'a', fired: false } },
          onOutcome: (o) => outcomes.push(o),
        });
        await a.bus.publish([rec(t.input, 'x', 'not-mine'), rec(t.input, 'y', 'count')]);
        await waitFor(() => outcomes.length === 2, 'both records done with');
        expect(outcomes.sort()).toEqual(['done', 'skipped']);
        expect([...counts(a.p).keys()]).toEqual(['y']);
      },
    );

    it.skipIf(skip)(
      'calls a timer again when its handler sets it to the due time it fired at',
      async () => {
        const t = names();
        const due = Date.now() + 200;
        const calls: number[] = [];
        const a = await start(t, 'a', {
          overdueGraceMs: 150,
          handle: async (_key, state) => ({
            state: { count: (state?.count ?? 0) + 1, by: 'a', fired: false },
            timers: { ping: due },
          }),
          onTimer: async (_key, state) => {
            calls.push(Date.now());
            // Not ready yet twice (what it waits for has not happened): the same due time again.
            if (calls.length < 3) return { timers: { ping: due } };
            return { state: { ...state, fired: true } };
          },
        });
        await a.bus.publish([rec(t.input, 'k', 'set')]);
        await waitFor(
          () => a.p.entries().some(([, s]) => s.fired),
          'the third call finished the timer',
          10_000,
        );
        expect(calls).toHaveLength(3);
        // Each repeat waited the grace, not a tight loop.
        expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(100);
      },
    );

    it.skipIf(skip)(
      'skips an unreadable state record and dead-letters an unreadable input record',
      async () => {
        const t = names();
        const bus = newBus();
        await bus.ensureTopics([{ topic: t.changelog, partitions: 4, cleanup: 'compact' }]);
        for (let p = 0; p < 4; p++) {
          await bus.publish([
            { ...rec(t.changelog, 'poison', '{"state":{"count":"many"}}'), toPartition: p },
          ]);
        }
        const a = await start(t, 'a', {
          decode: (r) => {
            if (text(r) === 'bad') throw new SyntaxError('cannot read this one');
            return text(r);
          },
        });
        await a.bus.publish([rec(t.input, 'poison', 'bad'), rec(t.input, 'poison', 'good')]);
        await waitFor(() => counts(a.p).get('poison') === 1, 'the good record counted');
        const dlq: Record<string, string>[] = [];
        await a.bus.readToEnd(t.dlq, (r) => dlq.push(r.headers));
        expect(dlq).toHaveLength(1);
        expect(dlq[0]).toMatchObject({
          'changegate-worker': 'kit-a',
          'changegate-error': 'cannot read this one',
        });
      },
    );
  },
  90_000,
);
