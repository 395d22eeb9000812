import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { toRecord } from '../../../../src/bus/cloudevents.js';
import { createMemoryBus } from '../../../../src/bus/memory.js';
import type { Bus, ConsumedRecord, Subscription } from '../../../../src/bus/port.js';
import { UpstreamError } from '../../../../src/errors.js';
import { buildEvent } from '../../../../src/events/build.js';
import {
  eventRouter,
  readDeadLetter,
  runWorker,
  type HandlerContext,
  type WorkerOutcome,
} from '../../../../src/workers/runtime/index.js';
import { createTestKafkaBus, hasKafka, uniqueTopic, waitFor } from '../../../support/kafka.js';

/**
 * The worker runtime on both bus adapters: every record ends handled, skipped or dead-lettered
 * exactly once, whatever its handler does.
 */

const log = pino({ level: 'silent' });

const released = (id: string, gateId: string) =>
  buildEvent(
    {
      type: 'dev.changegate.gate.released',
      subject: 'CHG0001',
      key: 'CHG0001',
      data: {
        gateId,
        changeNumber: 'CHG0001',
        correlationId: `github/acme/app/production/${gateId}`,
        outcome: 'released',
        reason: 'approved',
        decidedAt: '2026-12-01T12:00:00.000Z',
        waitedMs: 10,
        callback: { status: 'done', httpStatus: 200 },
      },
    },
    { id, source: '/test', time: new Date('2026-12-01T12:00:00Z') },
  );

describe.each([
  { name: 'memory', kafka: false, skip: false },
  { name: 'kafka', kafka: true, skip: !hasKafka() },
])('worker runtime: $name', ({ kafka, skip }) => {
  let bus: Bus | undefined;
  let sub: Subscription | undefined;
  afterEach(async () => {
    await sub?.close();
    await bus?.close();
  });

  it.skipIf(skip)(
    'handles, skips and dead-letters each record once, with the reason on the DLQ',
    async () => {
      bus = kafka ? createTestKafkaBus() : createMemoryBus();
      const input = uniqueTopic('rt-in');
      const dlq = uniqueTopic('rt-dlq');
      await bus.ensureTopics([
        { topic: input, partitions: 1 },
        { topic: dlq, partitions: 1 },
      ]);
      const handled: string[] = [];
      const tries = new Map<string, number>();
      const outcomes: WorkerOutcome[] = [];
      const events = eventRouter<HandlerContext>().on(
        'dev.changegate.gate.released',
        async (event, ctx) => {
          tries.set(event.data.gateId, ctx.attempt);
          if (event.data.gateId === 'flaky' && ctx.attempt < 2)
            throw new UpstreamError('503 from the CI system', { retryable: true });
          if (event.data.gateId === 'broken') throw new Error('a bug');
          handled.push(event.data.gateId);
        },
      );
      sub = await runWorker(
        { name: 'probe', topics: [input], events },
        {
          bus,
          log,
          dlqTopic: dlq,
          groupPrefix: uniqueTopic('rt-g'),
          retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
          onOutcome: (_w, o) => outcomes.push(o),
        },
      );
      // A type this worker has no handler for.
      const other = { ...released('other', 'expired'), type: 'dev.changegate.gate.expired' };
      await bus.publish([
        toRecord(input, released('e-1', 'ok')),
        toRecord(input, released('e-2', 'flaky')),
        toRecord(input, released('e-3', 'broken')),
        toRecord(input, other),
        { topic: input, key: 'junk', value: Buffer.from('not an event'), headers: {} },
        toRecord(input, { ...released('e-4', 'bad'), data: { gateId: 7 } }),
      ]);
      await waitFor(() => outcomes.length === 6, 'six outcomes', 20_000);
      expect(handled).toEqual(['ok', 'flaky']);
      expect(tries.get('broken')).toBe(3);
      expect(outcomes).toEqual([
        'done',
        'done',
        'dead-lettered',
        'skipped',
        'dead-lettered',
        'dead-lettered',
      ]);
      const letters: ConsumedRecord[] = [];
      await bus.readToEnd(dlq, (r) => letters.push(r));
      expect(letters.map((r) => readDeadLetter(r.headers))).toEqual([
        expect.objectContaining({
          worker: 'probe',
          attempts: 3,
          error: 'a bug',
          originTopic: input,
        }),
        expect.objectContaining({ worker: 'probe', attempts: 0, originOffset: '4' }),
        expect.objectContaining({ attempts: 1, errorName: 'PayloadError' }),
      ]);
      expect(letters[1]!.value?.toString()).toBe('not an event');
    },
    60_000,
  );
});
