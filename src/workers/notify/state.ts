import type { Bus, BusRecord } from '../../bus/port.js';

/**
 * What the notify worker must remember across restarts, in one compacted topic (the last record
 * per key is the state; a tombstone forgets):
 * - `sent|<reason>|<subject>|<channel>`: a notification that reached a channel, so a
 *   redelivered event, a second gate on the same CR or a restart never posts it again;
 * - `timer|<gateId>`: a gate waiting for its decision, so the "still waiting" reminder fires
 *   after a restart too, and the decision's message can still name project and environment;
 *   forgotten when the decision arrives.
 *
 * Read once at start, written as things happen; run one replica (timers are per process).
 *
 * @module
 */

export interface WaitingTimer {
  gateId: string;
  number: string;
  sysId: string;
  project: string;
  environment: string;
  correlationId: string;
  runUrl?: string | undefined;
  registeredAt: string;
  /** ms since epoch. */
  fireAt: number;
  /** Set once the reminder went out; the entry stays until the decision, for its details. */
  remindedAt?: string | undefined;
}

export interface NotifyState {
  wasSent(key: string): boolean;
  markSent(key: string): Promise<void>;
  timers(): WaitingTimer[];
  timer(gateId: string): WaitingTimer | undefined;
  putTimer(timer: WaitingTimer): Promise<void>;
  dropTimer(gateId: string): Promise<void>;
}

export const sentKey = (reason: string, subject: string, channel: string) =>
  `sent|${reason}|${subject}|${channel}`;

/** Create the topic if needed and load it. */
export async function loadNotifyState(
  bus: Bus,
  topic: string,
  partitions: number,
  clock: () => number = Date.now,
): Promise<NotifyState> {
  await bus.ensureTopics([{ topic, partitions, cleanup: 'compact' }]);
  const sent = new Set<string>();
  const timers = new Map<string, WaitingTimer>();
  await bus.readToEnd(topic, (record) => {
    const key = record.key ?? '';
    if (key.startsWith('sent|')) {
      if (record.value === null) sent.delete(key);
      else sent.add(key);
    } else if (key.startsWith('timer|')) {
      const gateId = key.slice('timer|'.length);
      if (record.value === null) timers.delete(gateId);
      else timers.set(gateId, JSON.parse(record.value.toString('utf8')) as WaitingTimer);
    }
  });
  const write = (key: string, value: unknown): BusRecord => ({
    topic,
    key,
    value: value === null ? null : Buffer.from(JSON.stringify(value)),
    headers: { 'content-type': 'application/json' },
  });
  return {
    wasSent: (key) => sent.has(key),
    async markSent(key) {
      await bus.publish([write(key, { at: new Date(clock()).toISOString() })]);
      sent.add(key);
    },
    timers: () => [...timers.values()],
    timer: (gateId) => timers.get(gateId),
    async putTimer(timer) {
      await bus.publish([write(`timer|${timer.gateId}`, timer)]);
      timers.set(timer.gateId, timer);
    },
    async dropTimer(gateId) {
      if (!timers.has(gateId)) return;
      await bus.publish([write(`timer|${gateId}`, null)]);
      timers.delete(gateId);
    },
  };
}
