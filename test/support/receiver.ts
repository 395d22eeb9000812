import { createMemoryBus, type MemoryBus } from '../../src/bus/memory.js';
import type { ConsumedRecord } from '../../src/bus/port.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import {
  startReceiver,
  type ReceiverRuntime,
  type StartReceiverOptions,
} from '../../src/runtime/receiver.js';

export interface TestReceiverOptions {
  sources: ConfigInput['sources'];
  /** Other config keys (`ingest`, `web`…); `server` adds to the ephemeral loopback listener. */
  config?: Omit<Partial<ConfigInput>, 'sources' | 'bus'>;
  /** Default: silent. */
  log?: Logger;
  extend?: StartReceiverOptions['extend'];
}

export interface TestReceiver {
  config: Config;
  /** The receiver's own bus, so a test can take it down (`setAvailable`) or read its topics. */
  bus: MemoryBus;
  /** Its delivery log, metrics and port. */
  runtime: ReceiverRuntime;
  url: string;
  /** Every record the receiver publishes to `topics` from now on, in arrival order. */
  records(topics: string[]): Promise<ConsumedRecord[]>;
  close(): Promise<void>;
}

let groups = 0;

/**
 * One receiver in this process, for tests of the HTTP edge: config from no environment, a memory
 * bus of its own, an ephemeral loopback port, silent logs and fresh metrics.
 */
export async function startTestReceiver({
  sources,
  config: values = {},
  log = createLogger({ level: 'silent' }),
  extend,
}: TestReceiverOptions): Promise<TestReceiver> {
  const config = loadConfig({
    env: {},
    overrides: (raw) =>
      Object.assign(raw, {
        bus: 'memory',
        log: { level: 'silent' },
        ...values,
        server: { port: 0, host: '127.0.0.1', ...values.server },
        sources,
      }),
  });
  const bus = createMemoryBus();
  const receiver = await startReceiver({
    config,
    log,
    bus,
    metrics: createMetrics({ defaults: false }),
    ...(extend ? { extend } : {}),
  });
  return {
    config,
    bus,
    runtime: receiver,
    url: receiver.url,
    async records(topics) {
      const seen: ConsumedRecord[] = [];
      await bus.subscribe({
        // A group of its own: two lists on one topic each see every record.
        groupId: `test-records-${++groups}`,
        topics,
        fromBeginning: true,
        handler: async (r) => void seen.push(r),
      });
      return seen;
    },
    async close() {
      await receiver.close();
      await bus.close();
    },
  };
}
