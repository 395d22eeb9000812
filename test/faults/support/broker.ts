import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaHome, startLocalKafka, stopLocalKafka } from '../../../scripts/kafka-local.js';

/**
 * The fault suite's own Kafka broker (scripts/kafka-local.ts on a port of its own): it is stopped,
 * SIGKILLed and restarted on purpose, so it must never be a broker someone else uses.
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

function brokerPid(port: number): number | undefined {
  const file = join(kafkaHome(), `data-${port}`, 'broker.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Alive and still the broker (a SIGKILLed child may linger as a zombie with no cmdline). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  return (
    !existsSync('/proc') ||
    (existsSync(cmdline) && readFileSync(cmdline, 'utf8').includes('kafka.Kafka'))
  );
}

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
    async kill() {
      const pid = brokerPid(port);
      if (pid === undefined || !alive(pid)) return;
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
    },
    start: async () => void (await startLocalKafka({ port, say })),
    close: async () => void (await stopLocalKafka({ port, say })),
  };
}
