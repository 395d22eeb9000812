import { auditRecord } from '../../audit/auditor.js';
import type { Bus } from '../../bus/port.js';
import type { NotifyConfig, NotifyReason } from '../../config/notify.js';
import { coerceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { channelRequest } from './channels.js';
import { renderNotification, type NotificationVars } from './message.js';
import { sendToChannel } from './send.js';
import { sentKey, type NotifyState } from './state.js';

/**
 * Sending one notification to every channel that hears about its reason, once: channels that
 * already got it (a `sent|…` record in the state) are skipped, each success is recorded right
 * after the channel accepted it, and the outcome goes to the audit topic.
 *
 * @module
 */

const ACTOR = 'changegate/notify';

export interface NotifierOptions {
  bus: Bus;
  config: NotifyConfig;
  state: NotifyState;
  auditTopic: string;
  log: Logger;
  clock: () => number;
  fetchImpl?: typeof fetch | undefined;
}

export interface Notifier {
  /** True when at least one channel hears about `reason`. */
  listens(reason: NotifyReason): boolean;
  /** True when every channel that hears about `reason` already got it for `subject`. */
  allSent(reason: NotifyReason, subject: string): boolean;
  /**
   * Send to the channels that have not got it yet.
   * @throws the first channel's error after trying them all, so the caller retries the rest.
   */
  notify(reason: NotifyReason, subject: string, vars: NotificationVars): Promise<void>;
}

/** A notifier over the loaded state; one per worker. */
export function createNotifier(options: NotifierOptions): Notifier {
  const { bus, config: nc, state, auditTopic, log, clock, fetchImpl } = options;
  const inflight = new Map<string, Promise<void>>();

  const channelsFor = (reason: NotifyReason) =>
    nc.channels.filter((c) => c.reasons.includes(reason));

  /** Serialise notifications of one subject+reason, so two triggers cannot both send. */
  const once = (key: string, fn: () => Promise<void>) => {
    const run = (inflight.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    inflight.set(key, tail);
    void tail.then(() => inflight.get(key) === tail && inflight.delete(key));
    return run;
  };

  async function notify(reason: NotifyReason, subject: string, vars: NotificationVars) {
    const channels = channelsFor(reason);
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
        auditRecord(auditTopic, {
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

  return {
    listens: (reason) => channelsFor(reason).length > 0,
    allSent: (reason, subject) =>
      channelsFor(reason).every((c) => state.wasSent(sentKey(reason, subject, c.name))),
    notify,
  };
}
