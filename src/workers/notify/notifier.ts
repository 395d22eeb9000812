import { auditRecord } from '../../audit/auditor.js';
import type { BusRecord } from '../../bus/port.js';
import type { NotifyConfig, NotifyReason } from '../../config/notify.js';
import { coerceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { channelRequest } from './channels.js';
import { renderNotification, type NotificationVars } from './message.js';
import { sendToChannel } from './send.js';

/**
 * Sending one notification to every channel that hears about its reason, once: channels that
 * already got it are skipped, each success is recorded right after the channel accepted it, and
 * the outcome goes to the audit topic. Who calls it says where "sent" is kept (the state of the
 * key, written through the state kit, so a task that lost its partition records nothing).
 *
 * @module
 */

const ACTOR = 'changegate/notify';

export interface NotifierOptions {
  config: NotifyConfig;
  auditTopic: string;
  log: Logger;
  clock: () => number;
  fetchImpl?: typeof fetch | undefined;
}

/** Where one notification's deliveries are looked up and recorded. */
export interface Deliveries {
  wasSent(reason: NotifyReason, channel: string): boolean;
  /** Resolves once durably recorded; rejects when the task may no longer write. */
  markSent(reason: NotifyReason, channel: string): Promise<void>;
  /** Publish audit records (fenced like every write of the task). */
  publish(records: BusRecord[]): Promise<void>;
  /** False once the task lost its partition: nothing more is sent. */
  owned(): boolean;
}

export interface Notifier {
  /** True when at least one channel hears about `reason`. */
  listens(reason: NotifyReason): boolean;
  /** True when every channel that hears about `reason` already got it. */
  allSent(reason: NotifyReason, deliveries: Pick<Deliveries, 'wasSent'>): boolean;
  /**
   * Send to the channels that have not got it yet.
   * @throws the first channel's error after trying them all, so the caller retries the rest.
   */
  notify(
    reason: NotifyReason,
    subject: string,
    vars: NotificationVars,
    deliveries: Deliveries,
  ): Promise<void>;
}

/** The notifier of one worker. */
export function createNotifier(options: NotifierOptions): Notifier {
  const { config: nc, auditTopic, log, clock, fetchImpl } = options;

  const channelsFor = (reason: NotifyReason) =>
    nc.channels.filter((c) => c.reasons.includes(reason));

  // One notification of a subject runs at a time without a lock here: the subject is the key of
  // the record or timer that triggered it, and the state kit runs a partition's work in order.
  async function notify(
    reason: NotifyReason,
    subject: string,
    vars: NotificationVars,
    deliveries: Deliveries,
  ) {
    const channels = channelsFor(reason);
    if (channels.length === 0) return;
    const n = renderNotification(nc.templates, reason, subject, vars);
    const failures: Error[] = [];
    const sent: string[] = [];
    for (const channel of channels) {
      if (deliveries.wasSent(reason, channel.name)) continue;
      // The partition moved on: its new owner sends the rest.
      if (!deliveries.owned()) break;
      try {
        const status = await sendToChannel(channel, channelRequest(channel, n, new Date(clock())), {
          timeoutMs: nc.timeoutMs,
          attempts: nc.attempts,
          ...(fetchImpl ? { fetchImpl } : {}),
        });
        await deliveries.markSent(reason, channel.name);
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
    if (records.length > 0) await deliveries.publish(records);
    // The kit retries the event (only the channels that missed it are sent again).
    if (failures.length > 0) throw failures[0]!;
  }

  return {
    listens: (reason) => channelsFor(reason).length > 0,
    allSent: (reason, deliveries) =>
      channelsFor(reason).every((c) => deliveries.wasSent(reason, c.name)),
    notify,
  };
}
