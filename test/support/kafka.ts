import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { createKafkaBus, type KafkaBus, type KafkaBusOptions } from '../../src/bus/kafka.js';

/**
 * Helpers for tests against the real broker that test/setup/kafka-global.ts provides.
 *
 * @module
 */

/** The brokers of this run. @throws Error when the run has no Kafka (CHANGEGATE_TEST_NO_KAFKA=1). */
export function kafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!brokers) {
    throw new Error(
      'no Kafka broker in this run: unset CHANGEGATE_TEST_NO_KAFKA (or use hasKafka() to skip)',
    );
  }
  return brokers.split(',');
}

/** True when the run has a broker; for `describe.skipIf(!hasKafka())`. */
export function hasKafka(): boolean {
  return inject('kafkaBrokers') !== '';
}

/** A topic (or group) name no other test uses on the shared broker. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

/** A KafkaBus on this run's broker, with fast rebalances for tests. Close it in afterEach. */
export function createTestKafkaBus(options: Partial<KafkaBusOptions> = {}): KafkaBus {
  return createKafkaBus({
    brokers: kafkaBrokers(),
    clientId: 'changegate-test',
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    ...options,
  });
}

/** Resolve once `check()` is true, polling; reject with `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
