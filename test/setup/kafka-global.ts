import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startLocalKafka } from '../../scripts/kafka-local.js';

/**
 * vitest globalSetup: finds or starts one real Kafka broker for the whole run and provides its
 * bootstrap string as `inject('kafkaBrokers')`. In order: `KAFKA_BROKERS`; a Testcontainers
 * broker when a Docker engine answers; the local Maven-jar broker (scripts/kafka-local.ts),
 * stopped at the end only if this run started it. `CHANGEGATE_TEST_NO_KAFKA=1` skips all of it
 * and provides '' (unit-test runs never start a broker).
 *
 * @module
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` list, or '' when the run has no Kafka. */
    kafkaBrokers: string;
  }
}

const say = (line: string) => console.log(`[kafka-global] ${line}`);

function dockerWorks(): boolean {
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const noop = async () => {};
  if (process.env.CHANGEGATE_TEST_NO_KAFKA === '1') {
    say('CHANGEGATE_TEST_NO_KAFKA=1: no broker; Kafka tests must skip');
    project.provide('kafkaBrokers', '');
    return noop;
  }
  if (process.env.KAFKA_BROKERS) {
    say(`using KAFKA_BROKERS=${process.env.KAFKA_BROKERS}`);
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    return noop;
  }
  if (dockerWorks()) {
    // Imported lazily: Testcontainers is only needed (and only loads its Docker client) here.
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
    const brokers = `${container.getHost()}:${container.getMappedPort(9093)}`;
    say(`using a Testcontainers broker at ${brokers}`);
    project.provide('kafkaBrokers', brokers);
    return async () => void (await container.stop());
  }
  const started = Date.now();
  const kafka = await startLocalKafka({ say, fresh: true });
  const took = ((Date.now() - started) / 1000).toFixed(1);
  say(
    `using the local broker at ${kafka.brokers} (${kafka.startedByUs ? `started in ${took} s` : 'already running'})`,
  );
  project.provide('kafkaBrokers', kafka.brokers);
  return () => kafka.stop();
}
