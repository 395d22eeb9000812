import type { GateRegisteredData } from '../../events/gate.js';
import type { NotificationVars } from './message.js';
import type { WaitingTimer } from './state.js';

/**
 * The "gate still waiting" reminder: due `notify.waitingAfterMinutes` after the gate was
 * registered, a state-kit timer of the CR's key (so it is persisted with the CR's state, fires
 * after a restart or on the replica that took the partition over, and dies with the task);
 * cancelled by the gate's decision. Nothing polls. A reminder already due when its task is
 * restored waits the kit's overdue grace (5 s), so a decision still queued behind it in the
 * stream can cancel it first.
 *
 * @module
 */

/** setTimeout's limit (~24.8 days) bounds `waitingAfterMinutes` in the config. */
export function waitingGate(gate: GateRegisteredData, waitingAfterMinutes: number): WaitingTimer {
  return {
    gateId: gate.gateId,
    number: gate.changeNumber,
    sysId: gate.changeSysId,
    project: gate.project,
    environment: gate.environment,
    correlationId: gate.correlationId,
    ...(gate.runUrl ? { runUrl: gate.runUrl } : {}),
    registeredAt: gate.registeredAt,
    fireAt: Date.parse(gate.registeredAt) + waitingAfterMinutes * 60_000,
  };
}

/** What the reminder says. */
export function reminderVars(
  gate: WaitingTimer,
  changeUrl: (sysId: string) => string,
  now: number,
): NotificationVars {
  return {
    number: gate.number,
    link: changeUrl(gate.sysId),
    runUrl: gate.runUrl,
    project: gate.project,
    environment: gate.environment,
    correlationId: gate.correlationId,
    waitedMs: now - Date.parse(gate.registeredAt),
  };
}
