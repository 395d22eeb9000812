import type { Bus, Subscription } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ServiceNowClients } from '../servicenow/index.js';
import { createNotifyHandlers } from './notify/handlers.js';
import { changeLink } from './notify/message.js';
import { createNotifier } from './notify/notifier.js';
import { createReminders } from './notify/reminders.js';
import { loadNotifyState, type WaitingTimer } from './notify/state.js';
import { runWorker, type RunWorkerOptions } from './runtime.js';

export interface NotifyWorkerOptions {
  bus: Bus;
  config: Pick<Config, 'kafka' | 'notify'>;
  servicenow: ServiceNowClients;
  log: Logger;
  fetchImpl?: typeof fetch;
  clock?: () => number;
  /** Passed on to the worker runtime (retries, DLQ, metrics). */
  runtime?: Omit<RunWorkerOptions, 'bus' | 'log' | 'dlqTopic'>;
}

export interface NotifyWorker {
  /** Gates still waiting for their decision (reminded or not). */
  waiting(): WaitingTimer[];
  close(): Promise<void>;
}

/**
 * The notify worker: tells release managers what they must act on, in Slack, Teams or a signed
 * webhook, once per CR and reason.
 *
 * - emergency CR awaiting approval: `change.created`, the CR read once from ServiceNow (the event
 *   does not carry the type);
 * - gate rejected / expired: `gate.rejected`, `gate.expired`;
 * - gate still waiting after `notify.waitingAfterMinutes`: a timer armed on `gate.registered`,
 *   persisted, dropped by the gate's decision; nothing polls (notify/reminders.ts);
 * - change creation failed: records the change worker dead-lettered (`changegate-worker: change`
 *   on the DLQ topic), read by a separate consumer that never re-dead-letters what it reads.
 *
 * Dedupe: a `sent|…` record per reason, subject and channel in the compacted state topic, written
 * right after that channel accepted the message, so a retry after a partial failure only
 * re-sends to the channels that missed it. A crash between the POST and that write may repeat
 * one message (at-least-once); the webhook channel's `webhook-id` lets its receiver drop it.
 */
export async function startNotifyWorker(options: NotifyWorkerOptions): Promise<NotifyWorker> {
  const { bus, config, servicenow, clock = Date.now, fetchImpl } = options;
  const log = options.log.child({ worker: 'notify' });
  const nc = config.notify;
  const topics = config.kafka.topics;
  const state = await loadNotifyState(bus, nc.stateTopic, config.kafka.partitions, clock);
  let closed = false;

  const client = () => servicenow.clientFor(nc.connection);
  const changeUrl = (sysId: string) => changeLink(client().url, sysId);
  const notifier = createNotifier({
    bus,
    config: nc,
    state,
    auditTopic: topics.audit,
    log,
    clock,
    fetchImpl,
  });
  const reminders = createReminders({
    state,
    notifier,
    waitingAfterMinutes: nc.waitingAfterMinutes,
    changeUrl,
    clock,
    log,
  });
  const { onEvent, onDeadLetter } = createNotifyHandlers({
    notifier,
    reminders,
    table: () => client().table,
    changeUrl,
    log,
    closed: () => closed,
  });

  reminders.restore();

  const subscriptions: Subscription[] = [];
  subscriptions.push(
    await runWorker(
      {
        name: 'notify',
        topics: [topics.changes, topics.cicd],
        handle: (event) => onEvent(event),
      },
      { bus, log: options.log, dlqTopic: topics.dlq, ...options.runtime },
    ),
  );
  if (notifier.listens('change-failed')) {
    subscriptions.push(
      await bus.subscribe({
        groupId: `${options.runtime?.groupPrefix ?? 'changegate'}-notify-dlq`,
        topics: [topics.dlq],
        fromBeginning: true,
        handler: onDeadLetter,
      }),
    );
  }
  log.info(
    { channels: nc.channels.map((c) => `${c.name}:${c.kind}`), waiting: reminders.armed() },
    'notify worker running',
  );

  return {
    waiting: () => state.timers(),
    async close() {
      closed = true;
      reminders.close();
      for (const s of subscriptions) await s.close();
    },
  };
}
