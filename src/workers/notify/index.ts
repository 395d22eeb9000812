import type { Bus } from '../../bus/port.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { ServiceNowClients } from '../../servicenow/index.js';
import { createNotifyHandlers } from './handlers.js';
import { changeLink } from './message.js';
import { createNotifier } from './notifier.js';
import { NoticeStateSchema, type WaitingTimer } from './state.js';
import type { WorkerRuntimeOptions } from '../runtime/index.js';
import { createStatefulProcessor, routeEvents, type StatefulProcessor } from '../stateful/index.js';
import type { NoticeState } from './state.js';

export interface NotifyWorkerOptions {
  bus: Bus;
  config: Pick<Config, 'kafka' | 'notify'>;
  servicenow: ServiceNowClients;
  log: Logger;
  fetchImpl?: typeof fetch;
  clock?: () => number;
  /** Consumer groups, retries and metrics, as for every worker. */
  runtime?: Pick<WorkerRuntimeOptions, 'groupPrefix' | 'retry' | 'onOutcome'>;
}

export interface NotifyWorker {
  /** Gates still waiting for their decision (reminded or not), on this replica's partitions. */
  waiting(): WaitingTimer[];
  /** The changes-topic partitions this replica owns and has restored. */
  partitions(): number[];
  close(): Promise<void>;
}

/**
 * The notify worker: tells release managers what they must act on, in Slack, Teams or a signed
 * webhook, once per CR, reason and channel.
 *
 * - emergency CR awaiting approval: `change.created`, the CR read once from ServiceNow (the event
 *   does not carry the type);
 * - gate rejected / expired: `gate.rejected`, `gate.expired`;
 * - gate still waiting after `notify.waitingAfterMinutes`: a timer armed on `gate.registered`,
 *   dropped by the gate's decision; nothing polls (notify/reminders.ts);
 * - change creation failed: records the change worker dead-lettered (`changegate-worker: change`
 *   on the DLQ topic), read by a second processor of its own.
 *
 * Both are state-kit processors (src/workers/stateful): per-partition tasks whose state (what was
 * sent, the waiting gates and their reminder timers) lives in a changelog co-partitioned with
 * the input, so the worker runs as N replicas and a rebalance moves state and timers with the
 * partitions. "Sent" is saved right after a channel accepted a message, so a retry after a
 * partial failure only re-sends to the channels that missed it. A kill -9 between the POST and
 * that write may repeat one message (at-least-once); the webhook channel's `webhook-id` lets its
 * receiver drop it.
 */
export async function startNotifyWorker(options: NotifyWorkerOptions): Promise<NotifyWorker> {
  const { bus, config, servicenow, clock = Date.now, fetchImpl } = options;
  const log = options.log.child({ worker: 'notify' });
  const nc = config.notify;
  const topics = config.kafka.topics;
  const { groupPrefix = 'changegate', onOutcome, retry } = options.runtime ?? {};

  const client = () => servicenow.clientFor(nc.connection);
  const changeUrl = (sysId: string) => changeLink(client().url, sysId);
  const notifier = createNotifier({ config: nc, auditTopic: topics.audit, log, clock, fetchImpl });
  const handlers = createNotifyHandlers({
    notifier,
    waitingAfterMinutes: nc.waitingAfterMinutes,
    table: () => client().table,
    changeUrl,
    clock,
  });
  const common = {
    bus,
    partitions: config.kafka.partitions,
    schema: NoticeStateSchema,
    dlqTopic: topics.dlq,
    log,
    clock,
    ...(retry ? { retry } : {}),
  };

  const processors: StatefulProcessor<NoticeState>[] = [];
  const main = await createStatefulProcessor({
    ...common,
    name: 'notify',
    groupId: `${groupPrefix}-notify`,
    input: topics.changes,
    changelog: nc.stateTopic,
    ...routeEvents(handlers.events),
    onTimer: handlers.onTimer,
    ...(onOutcome ? { onOutcome: (o, ms) => onOutcome('notify', o, ms) } : {}),
  });
  processors.push(main);
  if (notifier.listens('change-failed')) {
    processors.push(
      await createStatefulProcessor({
        ...common,
        name: 'notify-dlq',
        groupId: `${groupPrefix}-notify-dlq`,
        input: topics.dlq,
        // A changelog per input: the DLQ's keys (correlation ids) are not CR numbers.
        changelog: `${nc.stateTopic}-dead-letters`,
        decode: (record) => record,
        handle: handlers.onDeadLetter,
      }),
    );
  }
  log.info({ channels: nc.channels.map((c) => `${c.name}:${c.kind}`) }, 'notify worker running');

  return {
    waiting: () => main.entries().flatMap(([, s]) => Object.values(s.gates)),
    partitions: () => main.partitions(),
    async close() {
      for (const p of processors) await p.close();
    },
  };
}
