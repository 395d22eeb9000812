import { z } from 'zod';

/**
 * What the notify worker remembers, per key of what it reads (the CR number on the changes
 * topic, the record key on the DLQ), as state-kit entries (src/workers/stateful): kept in a
 * compacted changelog co-partitioned with the input, restored by the replica that owns the
 * partition, parsed back with these schemas.
 * - `sent`: `<reason>|<channel>` pairs that reached a channel, so a redelivered event, a second
 *   gate on the same CR, a restart or a rebalance never posts them again;
 * - `gates`: gates waiting for their decision, so the "still waiting" reminder (a kit timer,
 *   `waiting|<gateId>`) has its details and the decision's message can name project,
 *   environment and run; forgotten when the decision arrives.
 *
 * @module
 */

export const WaitingTimerSchema = z.object({
  gateId: z.string().min(1),
  number: z.string().min(1),
  sysId: z.string().min(1),
  project: z.string(),
  environment: z.string(),
  correlationId: z.string(),
  runUrl: z.string().optional(),
  registeredAt: z.string(),
  /** ms since epoch. */
  fireAt: z.number(),
  /** Set once the reminder went out; the entry stays until the decision, for its details. */
  remindedAt: z.string().optional(),
});
export type WaitingTimer = z.infer<typeof WaitingTimerSchema>;

export const NoticeStateSchema = z.object({
  sent: z.array(z.string()).default([]),
  gates: z.record(z.string(), WaitingTimerSchema).default({}),
});
export type NoticeState = z.infer<typeof NoticeStateSchema>;

export const emptyNotice = (): NoticeState => ({ sent: [], gates: {} });

export const sentKey = (reason: string, channel: string) => `${reason}|${channel}`;

const REMINDER = 'waiting|';
/** The kit timer of a gate's "still waiting" reminder. */
export const reminderTimer = (gateId: string) => `${REMINDER}${gateId}`;
/** The gate a timer reminds about, or undefined for another timer. */
export const gateOfTimer = (timer: string) =>
  timer.startsWith(REMINDER) ? timer.slice(REMINDER.length) : undefined;

export function markSent(state: NoticeState, reason: string, channel: string): NoticeState {
  const key = sentKey(reason, channel);
  return state.sent.includes(key) ? state : { ...state, sent: [...state.sent, key] };
}

export function withGate(state: NoticeState, gate: WaitingTimer): NoticeState {
  return { ...state, gates: { ...state.gates, [gate.gateId]: gate } };
}

export function withoutGate(state: NoticeState, gateId: string): NoticeState {
  const { [gateId]: _dropped, ...gates } = state.gates;
  return { ...state, gates };
}
