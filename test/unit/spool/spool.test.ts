import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { BusRecord } from '../../../src/bus/port.js';
import { decodeFrame, encodeFrame } from '../../../src/spool/frame.js';
import { Forwarder } from '../../../src/spool/forwarder.js';
import { Spool, SpoolFullError, scanSpool, segmentName } from '../../../src/spool/spool.js';
import { inspectSpool } from '../../../src/spool/inspect.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spool-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (id: string, body = 'x'): BusRecord => ({
  topic: 'cicd',
  key: `k/${id}`,
  value: Buffer.from(JSON.stringify({ id, body })),
  headers: { ce_id: id },
});
const delivery = (id: string, body?: string) => ({
  keys: [`github:${id}`],
  at: 1_700_000_000_000,
  records: [
    record(id, body),
    { topic: 'deliveries', key: `github:${id}`, value: Buffer.from('{}'), headers: {} },
  ],
});
const open = (o: Partial<Parameters<typeof Spool.open>[0]> = {}) =>
  Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 64 * 1024, ...o });

describe('spool frames', () => {
  it('round-trips records, tombstones and headers byte for byte', () => {
    const d = {
      keys: ['a'],
      at: 5,
      records: [record('1'), { topic: 't', key: null, value: null, headers: {} }],
    };
    const read = decodeFrame(encodeFrame(d), 0);
    expect(read).toEqual({ kind: 'frame', delivery: d, bytes: encodeFrame(d).length });
  });

  it('detects a flipped bit by its checksum and a cut frame by its length', () => {
    const frame = encodeFrame(delivery('1'));
    const flipped = Buffer.from(frame);
    flipped[frame.length - 3]! ^= 0x01;
    expect(decodeFrame(flipped, 0)).toMatchObject({ kind: 'corrupt', reason: 'checksum mismatch' });
    expect(decodeFrame(frame.subarray(0, frame.length - 1), 0)).toEqual({ kind: 'short' });
  });
});

describe('Spool', () => {
  it('keeps appended deliveries across a reopen, in order, and knows their dedupe keys', async () => {
    const spool = await open();
    await Promise.all(['1', '2', '3'].map((id) => spool.append(delivery(id))));
    expect(spool.holds('github:2')).toBe(true);
    await spool.close();
    const again = await open();
    expect(again.waiting).toBe(3);
    const batch = await again.peek(100, 1024 * 1024);
    expect(batch.map((b) => b.delivery!.records[0]!.headers.ce_id).sort()).toEqual(['1', '2', '3']);
    expect(again.holds('github:3')).toBe(true);
    await again.close();
  });

  it('drops a torn last frame after a crash and keeps everything before it', async () => {
    const spool = await open();
    await spool.append(delivery('1'));
    await spool.append(delivery('2'));
    await spool.close();
    const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
    // What a kill -9 in the middle of a write leaves: the header and part of the payload.
    const partial = encodeFrame(delivery('3')).subarray(0, 40);
    await appendFile(join(dir, segment!), partial);
    const reopened = await open();
    expect(reopened.waiting).toBe(2);
    expect(reopened.holds('github:3')).toBe(false);
    const size = (await stat(join(dir, segment!))).size;
    expect(size).toBe(2 * encodeFrame(delivery('1')).length);
    await reopened.close();
  });

  it('refuses an append past maxBytes with SpoolFullError and keeps what it has', async () => {
    const one = encodeFrame(delivery('1')).length;
    const spool = await open({ maxBytes: one * 2 + 10 });
    await spool.append(delivery('1'));
    await spool.append(delivery('2'));
    await expect(spool.append(delivery('3'))).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.waiting).toBe(2);
    await spool.close();
  });

  it('persists the cursor: acknowledged deliveries are not read again after a restart', async () => {
    const spool = await open({ segmentBytes: 1 }); // one segment per write
    for (const id of ['1', '2', '3']) await spool.append(delivery(id));
    await spool.ack(1);
    await spool.close();
    const again = await open();
    const batch = await again.peek(100, 1024 * 1024);
    expect(batch.map((b) => b.delivery!.records[0]!.headers.ce_id)).toEqual(['2', '3']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg'))).not.toContain(segmentName(1));
    await again.ack(2);
    expect((await readdir(dir)).filter((f) => f.endsWith('.seg'))).toEqual([]);
    await again.append(delivery('4'));
    await again.close();
    const third = await open();
    const left = await third.peek(100, 1024 * 1024);
    expect(left.map((b) => b.delivery!.records[0]!.headers.ce_id)).toEqual(['4']);
    await third.close();
  });

  it('refuses a directory another live process holds', async () => {
    await writeFile(join(dir, 'lock'), String(process.ppid));
    await expect(open()).rejects.toThrow(/in use by process/);
  });

  it('inspect reports count, oldest and size without taking the lock', async () => {
    const spool = await open();
    await spool.append({ ...delivery('1'), at: 1000 });
    await spool.append({ ...delivery('2'), at: 2000 });
    const report = await inspectSpool(dir);
    expect(report).toMatchObject({ deliveries: 2, oldestAt: 1000, torn: [] });
    expect(report.bytes).toBe(spool.bytes);
    await spool.close();
    expect((await scanSpool(dir)).entries).toHaveLength(2);
    expect(await readFile(join(dir, segmentName(1)))).toBeInstanceOf(Buffer);
  });
});

describe('Forwarder', () => {
  it('drains once the bus is writable, skips what Kafka already has, and empties the spool', async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['cicd'],
      fromBeginning: true,
      handler: async (r) => void seen.push(r.headers.ce_id!),
    });
    const spool = await open();
    const known = new Set(['github:2']);
    bus.setAvailable(false);
    const forwarder = new Forwarder({
      spool,
      bus,
      deliveries: { has: (k) => known.has(k), remember: (k) => void known.add(k) },
      maxBatchRecords: 3,
      maxBatchBytes: 1024 * 1024,
      ready: Promise.resolve(),
      initialBackoffMs: 10,
      maxBackoffMs: 20,
    });
    for (const id of ['1', '2', '3', '4']) await spool.append(delivery(id));
    await new Promise((r) => setTimeout(r, 50));
    expect(spool.waiting).toBe(4);
    bus.setAvailable(true);
    await forwarder.idle();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.sort()).toEqual(['1', '3', '4']);
    expect(spool.waiting).toBe(0);
    expect(known.has('github:4')).toBe(true);
    await forwarder.close();
    await spool.close();
  });

  it('passes over a frame damaged on disk after it was written, and forwards the rest', async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    await bus.subscribe({
      groupId: 'g2',
      topics: ['cicd'],
      fromBeginning: true,
      handler: async (r) => void seen.push(r.headers.ce_id!),
    });
    const spool = await open();
    for (const id of ['1', '2', '3']) await spool.append(delivery(id));
    const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
    const bytes = await readFile(join(dir, segment!));
    const second = encodeFrame(delivery('1')).length + 20;
    bytes[second]! ^= 0xff;
    await writeFile(join(dir, segment!), bytes);
    let damaged = 0;
    const forwarder = new Forwarder({
      spool,
      bus,
      deliveries: { has: () => false, remember: () => undefined },
      maxBatchRecords: 100,
      maxBatchBytes: 1024 * 1024,
      ready: Promise.resolve(),
      onDamaged: () => (damaged += 1),
    });
    forwarder.kick();
    await forwarder.idle();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.sort()).toEqual(['1', '3']);
    expect(damaged).toBe(1);
    expect(spool.waiting).toBe(0);
    await forwarder.close();
    await spool.close();
  });
});
