import { coerceError } from '../../errors.js';
import type { GateRegisteredData } from '../../events/gate.js';
import type { Logger } from '../../log.js';
import type { Notifier } from './notifier.js';
import type { NotifyState, WaitingTimer } from './state.js';

/**
 * The "gate still waiting" reminder: a timer armed when a gate is registered, persisted in the
 * state topic (so it fires after a restart too), dropped by the gate's decision. Nothing polls.
 * Timers are per process: run one replica.
 *
 * @module
 */

/**
 * A reminder that is already due when armed (history replayed, restart after a long stop) waits
 * this long, so a decision still queued behind it in the stream can cancel it first.
 */
const OVERDUE_GRACE_MS = 5_000;
/** setTimeout's limit (~24.8 days): a longer wait is clamped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** When a reminder could not be sent (chat down), the next try. */
const RETRY_MS = 60_000;

export interface RemindersOptions {
  state: NotifyState;
  notifier: Notifier;
  /** `notify.waitingAfterMinutes`. */
  waitingAfterMinutes: number;
  /** The CR's link in ServiceNow. */
  changeUrl: (sysId: string) => string;
  clock: () => number;
  log: Logger;
}

export interface Reminders {
  /** Arm the timers loaded from the state topic. */
  restore(): void;
  /** Persist and arm the reminder of a newly registered gate (unless it exists or was sent). */
  register(gate: GateRegisteredData): Promise<void>;
  /** The reminder of a gate still waiting for its decision (reminded or not). */
  timer(gateId: string): WaitingTimer | undefined;
  /** Forget a gate's reminder: its decision arrived. */
  cancel(gateId: string): Promise<void>;
  /** How many timers are armed. */
  armed(): number;
  /** Disarm everything; nothing fires after this. */
  close(): void;
}

/** The reminders of one worker, over its state and notifier. */
export function createReminders(options: RemindersOptions): Reminders {
  const { state, notifier, waitingAfterMinutes, changeUrl, clock, log } = options;
  const handles = new Map<string, NodeJS.Timeout>();
  let closed = false;

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
      await notifier.notify('gate-waiting', t.number, {
        number: t.number,
        link: changeUrl(t.sysId),
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
      if (!closed) arm({ ...t, fireAt: clock() + RETRY_MS });
    }
  }

  return {
    restore() {
      for (const t of state.timers()) arm(t);
    },
    async register(g) {
      if (!notifier.listens('gate-waiting')) return;
      if (state.timer(g.gateId) || notifier.allSent('gate-waiting', g.changeNumber)) return;
      const timer: WaitingTimer = {
        gateId: g.gateId,
        number: g.changeNumber,
        sysId: g.changeSysId,
        project: g.project,
        environment: g.environment,
        correlationId: g.correlationId,
        ...(g.runUrl ? { runUrl: g.runUrl } : {}),
        registeredAt: g.registeredAt,
        fireAt: Date.parse(g.registeredAt) + waitingAfterMinutes * 60_000,
      };
      await state.putTimer(timer);
      arm(timer);
    },
    timer: (gateId) => state.timer(gateId),
    async cancel(gateId) {
      const handle = handles.get(gateId);
      if (handle) clearTimeout(handle);
      handles.delete(gateId);
      await state.dropTimer(gateId);
    },
    armed: () => handles.size,
    close() {
      closed = true;
      for (const h of handles.values()) clearTimeout(h);
      handles.clear();
    },
  };
}
