import { describe, expect, it } from 'vitest';
import { BusUnavailableError } from '../../../src/errors.js';
import type { Bus, BusRecord } from '../../../src/bus/port.js';
import { BatchingPublisher } from '../../../src/ingest/batching-publisher.js';

/** A bus whose acknowledgements the test releases by hand. */
function controlledBus() {
  const calls: { records: BusRecord[]; ack: () => void; fail: (e: Error) => void }[] = [];
  const bus: Pick<Bus, 'publish'> = {
    publish: (records) =>
      new Promise<void>((ack, fail) => {
        calls.push({ records, ack: () => ack(), fail });
      }),
  };
  return { bus: bus as Bus, calls };
}

const record = (key: string, size = 10): BusRecord => ({
  topic: 't',
  key,
  value: Buffer.alloc(size),
  headers: {},
});

const options = { lingerMs: 2, maxBatchRecords: 100, maxBatchBytes: 1_000_000, timeoutMs: 1_000 };

describe('BatchingPublisher', () => {
  it('sends concurrent requests in one produce call and resolves each after the ack', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options });
    let resolved = 0;
    const requests = Array.from({ length: 20 }, (_, i) =>
      publisher.publish([record(`k${i}`)]).then(() => (resolved += 1)),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.records.map((r) => r.key)).toEqual(requests.map((_, i) => `k${i}`));
    expect(resolved).toBe(0); // nobody is answered before the broker acknowledged
    calls[0]!.ack();
    await Promise.all(requests);
    expect(resolved).toBe(20);
  });

  it('with no linger, sends what arrives in one event-loop turn together and at once', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options, lingerMs: 0 });
    const requests = [publisher.publish([record('a')]), publisher.publish([record('b')])];
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.records.map((r) => r.key)).toEqual(['a', 'b']);
    calls[0]!.ack();
    await Promise.all(requests);
  });

  it('gathers requests that arrive while a batch is in flight into the next batch', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options });
    const first = publisher.publish([record('a')]);
    await new Promise((r) => setTimeout(r, 5));
    const later = [publisher.publish([record('b')]), publisher.publish([record('c')])];
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toHaveLength(1);
    calls[0]!.ack();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toHaveLength(2);
    expect(calls[1]!.records.map((r) => r.key)).toEqual(['b', 'c']);
    calls[1]!.ack();
    await Promise.all(later);
  });

  it('keeps one request whole and splits batches at the record limit', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options, maxBatchRecords: 3 });
    const a = publisher.publish([record('a1'), record('a2')]);
    const b = publisher.publish([record('b1'), record('b2')]);
    await new Promise((r) => setTimeout(r, 5));
    expect(calls[0]!.records.map((r) => r.key)).toEqual(['a1', 'a2']);
    calls[0]!.ack();
    await a;
    await new Promise((r) => setTimeout(r, 0));
    expect(calls[1]!.records.map((r) => r.key)).toEqual(['b1', 'b2']);
    calls[1]!.ack();
    await b;
  });

  it('rejects every request of a batch the bus refused with BusUnavailableError', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options });
    const requests = [publisher.publish([record('a')]), publisher.publish([record('b')])];
    await new Promise((r) => setTimeout(r, 5));
    calls[0]!.fail(new Error('broker down'));
    for (const r of requests) await expect(r).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('answers 503-style BusUnavailableError when the ack does not come in time', async () => {
    const { bus } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options, timeoutMs: 30 });
    await expect(publisher.publish([record('a')])).rejects.toThrow(
      /did not acknowledge within 30 ms/,
    );
  });

  it('refuses new work at once when the queue is over its byte limit', async () => {
    const { bus } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options, maxQueuedBytes: 50 });
    const first = publisher.publish([record('a', 40)]);
    first.catch(() => {});
    await expect(publisher.publish([record('b', 40)])).rejects.toThrow(/queue is full/);
  });

  it('flushes accepted work on close and refuses work after it', async () => {
    const published: string[] = [];
    const bus = {
      publish: async (records: BusRecord[]) => {
        published.push(...records.map((r) => r.key!));
      },
    } as Bus;
    const publisher = new BatchingPublisher({ bus, ...options, lingerMs: 50 });
    const pending = publisher.publish([record('a')]);
    await publisher.close();
    await pending;
    expect(published).toEqual(['a']);
    await expect(publisher.publish([record('b')])).rejects.toThrow(/shutting down/);
  });

  it('tells a caller that timed out in flight whether its batch landed after all', async () => {
    const { bus, calls } = controlledBus();
    const publisher = new BatchingPublisher({ bus, ...options, lingerMs: 0 });
    const late: boolean[] = [];
    const first = publisher.publish([record('a')], 20, (written) => late.push(written));
    await new Promise((r) => setTimeout(r, 5));
    expect(calls).toHaveLength(1); // in flight when the deadline passes
    await expect(first).rejects.toBeInstanceOf(BusUnavailableError);
    expect(late).toEqual([]);
    calls[0]!.ack(); // the broker wrote it anyway
    await publisher.inFlightSettled();
    expect(late).toEqual([true]);

    const second = publisher.publish([record('b')], 20, (written) => late.push(written));
    await new Promise((r) => setTimeout(r, 5));
    await expect(second).rejects.toBeInstanceOf(BusUnavailableError);
    calls[1]!.fail(new Error('leader not available'));
    await publisher.inFlightSettled();
    expect(late).toEqual([true, false]);
  });
});
