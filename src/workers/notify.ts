import { auditRecord } from '../audit/auditor.js';
import { fromRecord } from '../bus/cloudevents.js';
import type { Bus, ConsumedRecord, Subscription } from '../bus/port.js';
import type { NotifyConfig, NotifyReason } from '../config/notify.js';
import type { Config } from '../config/schema.js';
import { coerceError } from '../errors.js';
import { DeploymentDataSchema } from '../events/cicd.js';
import type { CloudEvent } from '../events/envelope.js';
import {
  ChangeActionDataSchema,
  GateDecidedDataSchema,
  GateRegisteredDataSchema,
} from '../events/gate.js';
import type { Logger } from '../log.js';
import type { ServiceNowClients } from '../servicenow/index.js';
import { channelRequest } from './notify/channels.js';
import { changeLink, renderNotification, type NotificationVars } from './notify/message.js';
import { sendToChannel } from './notify/send.js';
import { loadNotifyState, sentKey, type WaitingTimer } from './notify/state.js';
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

const ACTOR = 'changegate/notify';
/**
 * A reminder that is already due when armed (history replayed, restart after a long stop) waits
 * this long, so a decision still queued behind it in the stream can cancel it first.
 */
const OVERDUE_GRACE_MS = 5_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const RUN_URL_CACHE = 10_000;

/**
 * The notify worker: tells release managers what they must act on, in Slack, Teams or a signed
 * webhook, once per CR and reason.
 *
 * - emergency CR awaiting approval: `change.created`, the CR read once from ServiceNow (the event
 *   does not carry the type);
 * - gate rejected / expired: `gate.rejected`, `gate.expired`;
 * - gate still waiting after `notify.waitingAfterMinutes`: a timer armed on `gate.registered`,
 *   persisted, dropped by the gate's decision; nothing polls;
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
  const nc: NotifyConfig = config.notify;
  const topics = config.kafka.topics;
  const state = await loadNotifyState(bus, nc.stateTopic, config.kafka.partitions, clock);
  const handles = new Map<string, NodeJS.Timeout>();
  const runUrls = new Map<string, string>();
  const inflight = new Map<string, Promise<void>>();
  let closed = false;

  const instanceUrl = () => servicenow.clientFor(nc.connection).url;

  const rememberRun = (correlationId: string, url: string | undefined) => {
    if (!url) return;
    runUrls.delete(correlationId);
    runUrls.set(correlationId, url);
    if (runUrls.size > RUN_URL_CACHE) runUrls.delete(runUrls.keys().next().value!);
  };

  /** Serialise notifications of one subject+reason, so two triggers cannot both send. */
  const once = (key: string, fn: () => Promise<void>) => {
    const run = (inflight.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    inflight.set(key, tail);
    void tail.then(() => inflight.get(key) === tail && inflight.delete(key));
    return run;
  };

  /** True when every channel that hears about `reason` already got it for `subject`. */
  const allSent = (reason: NotifyReason, subject: string) =>
    nc.channels
      .filter((c) => c.reasons.includes(reason))
      .every((c) => state.wasSent(sentKey(reason, subject, c.name)));

  async function notify(reason: NotifyReason, subject: string, vars: NotificationVars) {
    const channels = nc.channels.filter((c) => c.reasons.includes(reason));
    if (channels.length === 0) return;
    await once(`${reason}|${subject}`, async () => {
      const n = renderNotification(nc.templates, reason, subject, vars);
      const failures: Error[] = [];
      const sent: string[] = [];
      for (const channel of channels) {
        const key = sentKey(reason, subject, channel.name);
        if (state.wasSent(key)) continue;
        try {
          const status = await sendToChannel(
            channel,
            channelRequest(channel, n, new Date(clock())),
            {
              timeoutMs: nc.timeoutMs,
              attempts: nc.attempts,
              ...(fetchImpl ? { fetchImpl } : {}),
            },
          );
          await state.markSent(key);
          sent.push(channel.name);
          log.info({ reason, subject, channel: channel.name, status }, 'notification sent');
        } catch (err) {
          failures.push(coerceError(err));
        }
      }
      const audit = (action: string, why: string, detail: Record<string, unknown>) =>
        auditRecord(topics.audit, {
          key: subject,
          actor: ACTOR,
          action,
          reason: why,
          ...(vars.correlationId ? { correlationId: vars.correlationId } : {}),
          detail,
        });
      const records = [];
      if (sent.length > 0)
        records.push(audit('notify.sent', reason, { channels: sent, title: n.title }));
      if (failures.length > 0)
        records.push(audit('notify.failed', reason, { errors: failures.map((e) => e.message) }));
      if (records.length > 0) await bus.publish(records);
      // The runtime retries the event (only the channels that missed it are sent again).
      if (failures.length > 0) throw failures[0]!;
    });
  }

  async function sysIdOf(number: string): Promise<string | undefined> {
    const [cr] = await servicenow
      .clientFor(nc.connection)
      .table.query('change_request', { query: `number=${number}`, limit: 1, fields: ['sys_id'] });
    return cr?.sys_id;
  }

  // --- waiting reminders ------------------------------------------------------------------

  const arm = (t: WaitingTimer) => {
    if (t.remindedAt) return;
    const existing = handles.get(t.gateId);
    if (existing) clearTimeout(existing);
    const due = Math.max(t.fireAt, clock() + (t.fireAt <= clock() ? OVERDUE_GRACE_MS : 0));
    const handle = setTimeout(
      () => {
        handles.delete(t.gateId);
        if (!closed) void fire(t.gateId);
      },
      Math.min(MAX_TIMER_MS, due - clock()),
    );
    handle.unref?.();
    handles.set(t.gateId, handle);
  };

  async function fire(gateId: string) {
    const t = state.timer(gateId);
    if (!t) return;
    try {
      await notify('gate-waiting', t.number, {
        number: t.number,
        link: changeLink(instanceUrl(), t.sysId),
        runUrl: t.runUrl,
        project: t.project,
        environment: t.environment,
        correlationId: t.correlationId,
        waitedMs: clock() - Date.parse(t.registeredAt),
      });
      // The decision may have dropped the entry meanwhile: do not bring it back.
      if (state.timer(gateId))
        await state.putTimer({ ...t, remindedAt: new Date(clock()).toISOString() });
    } catch (err) {
      // Chat down: try again later rather than forget the reminder.
      log.warn({ err: coerceError(err).message, gateId }, 'waiting reminder failed; re-armed');
      if (!closed) arm({ ...t, fireAt: clock() + 60_000 });
    }
  }

  const cancel = async (gateId: string) => {
    const handle = handles.get(gateId);
    if (handle) clearTimeout(handle);
    handles.delete(gateId);
    await state.dropTimer(gateId);
  };

  // --- event handlers ---------------------------------------------------------------------

  async function onEvent(event: CloudEvent) {
    const type = event.type;
    if (type.startsWith('dev.changegate.deployment.')) {
      const d = DeploymentDataSchema.safeParse(event.data);
      if (d.success) rememberRun(d.data.correlationId, d.data.run?.url);
      return;
    }
    if (type === 'dev.changegate.gate.registered') {
      const g = GateRegisteredDataSchema.parse(event.data);
      rememberRun(g.correlationId, g.runUrl);
      if (!nc.channels.some((c) => c.reasons.includes('gate-waiting'))) return;
      if (state.timer(g.gateId) || allSent('gate-waiting', g.changeNumber)) return;
      const timer: WaitingTimer = {
        gateId: g.gateId,
        number: g.changeNumber,
        sysId: g.changeSysId,
        project: g.project,
        environment: g.environment,
        correlationId: g.correlationId,
        ...(g.runUrl ? { runUrl: g.runUrl } : {}),
        registeredAt: g.registeredAt,
        fireAt: Date.parse(g.registeredAt) + nc.waitingAfterMinutes * 60_000,
      };
      await state.putTimer(timer);
      arm(timer);
      return;
    }
    if (
      type === 'dev.changegate.gate.released' ||
      type === 'dev.changegate.gate.rejected' ||
      type === 'dev.changegate.gate.expired'
    ) {
      const d = GateDecidedDataSchema.parse(event.data);
      const known = state.timer(d.gateId);
      await cancel(d.gateId);
      if (d.outcome === 'released') return;
      const sysId = known?.sysId ?? (await sysIdOf(d.changeNumber));
      await notify(d.outcome === 'rejected' ? 'gate-rejected' : 'gate-expired', d.changeNumber, {
        number: d.changeNumber,
        ...(sysId ? { link: changeLink(instanceUrl(), sysId) } : {}),
        runUrl: known?.runUrl ?? runUrls.get(d.correlationId),
        project: known?.project ?? projectOf(d.correlationId),
        environment: known?.environment,
        reason: d.reason,
        waitedMs: d.waitedMs,
        correlationId: d.correlationId,
      });
      return;
    }
    if (type === 'dev.changegate.change.created') {
      const d = ChangeActionDataSchema.parse(event.data);
      if (!nc.channels.some((c) => c.reasons.includes('emergency-approval'))) return;
      if (d.action !== 'created' || allSent('emergency-approval', d.changeNumber)) return;
      // The event does not say which type of CR was created: read it once.
      const cr = await servicenow
        .clientFor(nc.connection)
        .table.get('change_request', d.changeSysId, {
          fields: ['sys_id', 'number', 'type', 'approval', 'state', 'short_description'],
        });
      const awaiting =
        cr.approval !== 'approved' &&
        cr.approval !== 'rejected' &&
        cr.state !== '3' &&
        cr.state !== '4';
      if (cr.type !== 'emergency' || !awaiting) return;
      await notify('emergency-approval', d.changeNumber, {
        number: d.changeNumber,
        link: changeLink(instanceUrl(), d.changeSysId),
        runUrl: runUrls.get(d.correlationId),
        project: projectOf(d.correlationId),
        shortDescription: cr.short_description,
        correlationId: d.correlationId,
      });
    }
  }

  /** Dead-lettered by the change worker: the deployment has no CR and waits in vain. */
  async function onDeadLetter(record: ConsumedRecord) {
    if (record.headers['changegate-worker'] !== 'change') return;
    let event: CloudEvent | undefined;
    try {
      event = fromRecord(record);
    } catch {
      event = undefined;
    }
    const d = DeploymentDataSchema.safeParse(event?.data);
    const correlationId = d.success ? d.data.correlationId : (record.key ?? record.offset);
    const vars: NotificationVars = {
      correlationId,
      error: (record.headers['changegate-error'] ?? 'unknown error').replace(/^\[[^\]]+\]\s*/, ''),
      ...(d.success
        ? {
            project: d.data.project,
            environment: d.data.environment,
            runUrl: d.data.run?.url,
          }
        : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await notify('change-failed', correlationId, vars);
        return;
      } catch (err) {
        // Never dead-letter a dead letter: after the attempts, the audit trail has the failure.
        if (attempt >= 3 || closed) {
          log.error(
            { err: coerceError(err).message, correlationId },
            'change-failed notification lost',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }

  for (const t of state.timers()) arm(t);

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
  if (nc.channels.some((c) => c.reasons.includes('change-failed'))) {
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
    { channels: nc.channels.map((c) => `${c.name}:${c.kind}`), waiting: handles.size },
    'notify worker running',
  );

  return {
    waiting: () => state.timers(),
    async close() {
      closed = true;
      for (const h of handles.values()) clearTimeout(h);
      handles.clear();
      for (const s of subscriptions) await s.close();
    },
  };
}

/** `<provider>/<project…>/<deployment>` → the project part, for messages. */
function projectOf(correlationId: string): string | undefined {
  const parts = correlationId.split('/');
  return parts.length >= 3 ? parts.slice(1, -1).join('/') : undefined;
}
