import { crStateValueOfRecord } from '../workers/gate/state-record.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fromRecord } from '../bus/cloudevents.js';
import type { Bus, ConsumedRecord, Subscription } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { StatusSource } from './status-source.js';
import { StatusStore } from './status-store.js';

export interface BusStatusSourceOptions {
  bus: Bus;
  topics: Config['kafka']['topics'];
  log: Logger;
  recent?: number;
  /** Default: a group of its own per process, so every receiver replica sees every record. */
  groupId?: string;
}

/**
 * Fill the status page from the bus, so a receiver shows it without a worker in its process:
 * - `gate-state`: the gate worker's compacted changelog. Each value is exactly what the worker's
 *   `states()` holds (`CrState`, written before every effect), so the page reads the same
 *   reasons whether the gate worker runs here or elsewhere.
 * - `changes`: recent change events; `audit`: incidents filed; `dlq`: its size and last errors.
 *
 * It reads every topic from the beginning with a consumer group of its own. A record it cannot
 * read is logged and skipped: the handler never rejects, so a bad record cannot stall the page.
 *
 * @example const source = await startBusStatusSource({ bus, topics: config.kafka.topics, log });
 */
export async function startBusStatusSource({
  bus,
  topics,
  log: parent,
  recent,
  groupId = `changegate-status-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
}: BusStatusSourceOptions): Promise<StatusSource> {
  const log = parent.child({ component: 'status-page' });
  const store = new StatusStore(recent !== undefined ? { recent } : {});
  const json = (record: ConsumedRecord): unknown =>
    record.value === null ? null : JSON.parse(record.value.toString('utf8'));

  const handler = async (record: ConsumedRecord): Promise<void> => {
    try {
      if (record.topic === topics.gateState) {
        if (record.key) store.applyGateState(record.key, crStateValueOfRecord(record.value));
      } else if (record.topic === topics.changes) {
        store.applyChangeEvent(fromRecord(record));
      } else if (record.topic === topics.audit) {
        store.applyAudit(json(record));
      } else if (record.topic === topics.dlq) {
        store.applyDeadLetter(record);
      }
    } catch (err) {
      log.debug(
        { err, topic: record.topic, offset: record.offset },
        'status page skipped a record',
      );
    }
  };

  const subscription: Subscription = await bus.subscribe({
    groupId,
    topics: [topics.gateState, topics.changes, topics.audit, topics.dlq],
    fromBeginning: true,
    handler,
  });

  return {
    snapshot: () => store.snapshot(),
    onChange: (listener) => store.onChange(listener),
    close: () => subscription.close(),
  };
}
