import type { WaitingFor } from './status-source.js';

/**
 * Which rule a waiting gate is held by, read from the reason the gate rules give
 * (src/gate/rules.ts `evaluate`). The reason text stays on the page in full; this only picks the
 * label. test/unit/web/waiting-for.test.ts feeds it real `evaluate` verdicts, so a reworded rule
 * fails that test rather than silently showing "other".
 */
export function waitingFor(reason: string): WaitingFor {
  if (reason.startsWith('awaiting approval')) return 'approval';
  if (reason.startsWith('planned window') || reason.startsWith('blackout')) return 'window';
  if (reason.startsWith('rule not met')) return 'rule';
  if (reason.startsWith('state is') || reason.startsWith('approved and in window')) return 'state';
  if (reason.startsWith('change request not read') || reason === 'registered') return 'change';
  return 'other';
}

/** The short status label a person sees for a gate. */
export function gateLabel(status: string, waiting?: WaitingFor): string {
  if (status !== 'waiting') return status === 'deciding' ? 'deciding' : status;
  switch (waiting) {
    case 'approval':
      return 'awaiting approval';
    case 'window':
      return 'waiting for its window';
    case 'rule':
      return 'waiting for a rule';
    case 'state':
      return 'waiting for Implement';
    case 'change':
      return 'reading the change';
    default:
      return 'waiting';
  }
}
