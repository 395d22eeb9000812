import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createKafkaBus } from './kafka.js';
import { createMemoryBus } from './memory.js';
import type { Bus } from './port.js';

/**
 * The bus: the port, both adapters, and the factory that picks one from the config.
 *
 * @module
 */

/** The port every component talks to. */
export type {
  Bus,
  BusRecord,
  ConsumedRecord,
  SubscribeOptions,
  Subscription,
  TopicPartition,
  TopicSpec,
} from './port.js';
export { createKafkaBus, KafkaBus, type KafkaBusOptions } from './kafka.js';
export { createMemoryBus, MemoryBus, type MemoryBusOptions } from './memory.js';
export { topicSpecs } from './topics.js';

/** `config.bus` decides: `kafka` (production) or `memory` (embedded, says so in the log). */
export function createBus(config: Config, { log }: { log?: Logger } = {}): Bus {
  if (config.bus === 'memory') {
    log?.warn('using the in-memory bus: for trying changegate out and tests, not production');
    return createMemoryBus({ defaultPartitions: config.kafka.partitions });
  }
  const { brokers, clientId, ssl, sasl } = config.kafka;
  return createKafkaBus({
    brokers,
    clientId,
    ssl,
    sasl,
    log,
    publishTimeoutMs: config.ingest.publishTimeoutMs,
    consumeConcurrency: config.kafka.consumeConcurrency,
  });
}
