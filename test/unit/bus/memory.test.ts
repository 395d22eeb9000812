import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, type MemoryBus } from '../../../src/bus/memory.js';
import type { BusRecord, ConsumedRecord, Subscription } from '../../../src/bus/port.js';
import { BusUnavailableError } from '../../../src/errors.js';

const rec = (topic: string, key: string | null, value = 'v'): BusRecord => ({
  topic,
  key,
  value: Buffer.from(value),
  headers: {},
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('MemoryBus', () => {
  let bus: MemoryBus;
  const subs: Subscription[] = [];
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.close()));
    await bus?.close();
  });

  it('rejects publishes with BusUnavailableError and reports not ready during a simulated outage', async () => {
    bus = createMemoryBus();
    bus.setAvailable(false);
    await expect(bus.publish([rec('t', 'k')])).rejects.toBeInstanceOf(BusUnavailableError);
    expect(await bus.isReady()).toBe(false);
    bus.setAvailable(true);
    await bus.publish([rec('t', 'k')]);
    expect(await bus.isReady()).toBe(true);
  });

  it('puts one key on one partition and spreads null keys round-robin', async () => {
    bus = createMemoryBus({ defaultPartitions: 4 });
    await bus.publish(Array.from({ length: 8 }, () => rec('t', 'same')));
    await bus.publish(Array.from({ length: 8 }, () => rec('n', null)));
    const keyed = new Set<number>();
    const unkeyed: number[] = [];
    await bus.readToEnd('t', (r) => keyed.add(r.partition));
    await bus.readToEnd('n', (r) => unkeyed.push(r.partition));
    expect(keyed.size).toBe(1);
    expect(unkeyed.sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('creates topics implicitly with the default partitions and keeps ensureTopics partitions', async () => {
    bus = createMemoryBus({ defaultPartitions: 2 });
    await bus.ensureTopics([{ topic: 'wide', partitions: 5 }]);
    await bus.ensureTopics([{ topic: 'wide', partitions: 1 }]);
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    await bus.publish(keys.flatMap((k) => [rec('wide', k), rec('auto', k)]));
    const wide = new Set<number>();
    const auto = new Set<number>();
    await bus.readToEnd('wide', (r) => wide.add(r.partition));
    await bus.readToEnd('auto', (r) => auto.add(r.partition));
    expect([...wide].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...auto].sort()).toEqual([0, 1]);
  });

  it('starts a new group at the end unless it asks for the beginning', async () => {
    bus = createMemoryBus();
    await bus.publish([rec('t', 'k', 'old')]);
    const latest: string[] = [];
    const earliest: string[] = [];
    const on = (into: string[]) => async (r: ConsumedRecord) => void into.push(r.value!.toString());
    subs.push(await bus.subscribe({ groupId: 'a', topics: ['t'], handler: on(latest) }));
    subs.push(
      await bus.subscribe({
        groupId: 'b',
        topics: ['t'],
        fromBeginning: true,
        handler: on(earliest),
      }),
    );
    await bus.publish([rec('t', 'k', 'new')]);
    await until(() => latest.length === 1 && earliest.length === 2, 'both groups');
    expect(latest).toEqual(['new']);
    expect(earliest).toEqual(['old', 'new']);
  });

  it('moves the partitions of a member that left to the remaining member without loss', async () => {
    bus = createMemoryBus({ defaultPartitions: 4 });
    const seen: string[] = [];
    const handler = async (r: ConsumedRecord) => void seen.push(r.value!.toString());
    const leaving = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      handler,
    });
    subs.push(await bus.subscribe({ groupId: 'g', topics: ['t'], fromBeginning: true, handler }));
    await bus.publish(Array.from({ length: 20 }, (_, i) => rec('t', `k${i}`, `a${i}`)));
    await until(() => seen.length === 20, 'first 20');
    await leaving.close();
    await bus.publish(Array.from({ length: 20 }, (_, i) => rec('t', `k${i}`, `b${i}`)));
    await until(() => seen.length === 40, 'all 40');
    expect(new Set(seen).size).toBe(40);
  });

  it('keeps the event loop responsive while delivering a long backlog', async () => {
    bus = createMemoryBus({ defaultPartitions: 1 });
    await bus.publish(Array.from({ length: 5000 }, (_, i) => rec('t', 'k', String(i))));
    let handled = 0;
    let handledWhenTimerFired = -1;
    setTimeout(() => (handledWhenTimerFired = handled), 0);
    subs.push(
      await bus.subscribe({
        groupId: 'g',
        topics: ['t'],
        fromBeginning: true,
        handler: async () => void handled++,
      }),
    );
    await until(() => handled === 5000, 'backlog');
    expect(handledWhenTimerFired).toBeGreaterThanOrEqual(0);
    expect(handledWhenTimerFired).toBeLessThan(5000);
  });

  it('stores copies, so a publisher reusing its buffer cannot change the log', async () => {
    bus = createMemoryBus();
    const value = Buffer.from('abc');
    const headers = { h: '1' };
    await bus.publish([{ topic: 't', key: 'k', value, headers }]);
    value.write('xyz');
    headers.h = '2';
    const read: ConsumedRecord[] = [];
    await bus.readToEnd('t', (r) => read.push(r));
    expect(read[0]!.value!.toString()).toBe('abc');
    expect(read[0]!.headers).toEqual({ h: '1' });
  });

  it('stops delivering and rejects publishes once closed, and closes twice without error', async () => {
    bus = createMemoryBus();
    const seen: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (r) => void seen.push(r.value!.toString()),
    });
    await bus.close();
    await bus.close();
    await expect(bus.publish([rec('t', 'k')])).rejects.toBeInstanceOf(BusUnavailableError);
    expect(await bus.isReady()).toBe(false);
    expect(seen).toEqual([]);
  });
});
