import { killLocalKafka, startLocalKafka, stopLocalKafka } from '../../../scripts/kafka-local.js';

/**
 * A Kafka broker of a suite's own (scripts/kafka-local.ts on a port of its own): the fault suite
 * stops, SIGKILLs and restarts it on purpose, so it must never be a broker someone else uses.
 *
 * @module
 */

export interface OwnBroker {
  brokers: string;
  port: number;
  /** Graceful stop (SIGTERM, controlled shutdown); resolves when the JVM exited. */
  stop(): Promise<void>;
  /** SIGKILL the JVM: no shutdown, no flush beyond what the OS page cache holds. */
  kill(): Promise<void>;
  /** Start it again on the same data directory; resolves when it serves Metadata. */
  start(): Promise<void>;
  /** Stop for good (used at the end). */
  close(): Promise<void>;
}

const say = (line: string) => console.log(`[faults] kafka: ${line}`);

/**
 * Start a fresh broker on `port`.
 * @throws Error when a broker this suite did not start already answers there (it would be killed).
 */
export async function startOwnBroker(port: number): Promise<OwnBroker> {
  const first = await startLocalKafka({ port, fresh: true, say });
  if (!first.startedByUs) {
    throw new Error(
      `[faults] a Kafka broker already answers on 127.0.0.1:${port}; the fault suite kills its broker, so it needs the port to itself`,
    );
  }
  return {
    brokers: first.brokers,
    port,
    stop: async () => void (await stopLocalKafka({ port, say })),
    kill: async () => void (await killLocalKafka({ port })),
    start: async () => void (await startLocalKafka({ port, say })),
    close: async () => void (await stopLocalKafka({ port, say })),
  };
}
