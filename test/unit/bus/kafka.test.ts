import { describe, expect, it } from 'vitest';
import { createKafkaBus } from '../../../src/bus/kafka.js';
import { BusUnavailableError } from '../../../src/errors.js';

// Port 1 on loopback: nothing listens, so every connection is refused at once.
const NOBODY = ['127.0.0.1:1'];

describe('KafkaBus without a reachable broker', () => {
  it('rejects a publish with BusUnavailableError within the publish timeout', async () => {
    const bus = createKafkaBus({ brokers: NOBODY, publishTimeoutMs: 500 });
    const started = Date.now();
    const record = { topic: 't', key: 'k', value: Buffer.from('v'), headers: {} };
    const error = await bus.publish([record]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BusUnavailableError);
    expect((error as BusUnavailableError).retryAfterSeconds).toBe(5);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await bus.isReady()).toBe(false);
    await bus.close();
  });

  it('rejects publishes after close, and closes twice without error', async () => {
    const bus = createKafkaBus({ brokers: NOBODY });
    await bus.close();
    await bus.close();
    const record = { topic: 't', key: null, value: null, headers: {} };
    await expect(bus.publish([record])).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('refuses to be created without brokers', () => {
    expect(() => createKafkaBus({ brokers: [] })).toThrow(/brokers required/);
  });
});
