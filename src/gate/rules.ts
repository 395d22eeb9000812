import type { Blackout, GatePolicy, Rule } from '../config/changes.js';
import type { ChangeSnapshot } from '../events/gate.js';
import { CHANGE_STATE } from '../events/change-state.js';
import { parseServiceNowTime } from './servicenow-time.js';

/** ServiceNow's change states, under the name the rules and their tests use. */
export const STATE = CHANGE_STATE;

export type Verdict =
  | { verdict: 'release'; reason: string }
  | { verdict: 'reject'; reason: string }
  /** `until`: the only unmet rule is time; check again then. `advance`: move the CR to Implement. */
  | { verdict: 'wait'; reason: string; until?: Date; advance?: boolean };

/** The value a rule reads: the snapshot's named fields first, then the free-form ones. */
function fieldOf(change: ChangeSnapshot, field: string): string | undefined {
  switch (field) {
    case 'state':
      return change.state;
    case 'approval':
      return change.approval;
    case 'start_date':
      return change.startDate;
    case 'end_date':
      return change.endDate;
    case 'number':
      return change.number;
    default:
      return change.fields[field];
  }
}

/** Numbers compare as numbers when both sides are numeric, else as strings. */
export function holds(rule: Rule, change: ChangeSnapshot): boolean {
  const actual = fieldOf(change, rule.field);
  const want = rule.value;
  const eq = (a: string | undefined, b: string | number | boolean) =>
    a !== undefined && (a === String(b) || (isNumeric(a) && isNumeric(String(b)) && +a === +b));
  switch (rule.op) {
    case '==':
      return !Array.isArray(want) && eq(actual, want);
    case '!=':
      return !Array.isArray(want) && !eq(actual, want);
    case 'in':
      return Array.isArray(want) && want.some((w) => eq(actual, w));
    case 'not in':
      return Array.isArray(want) && !want.some((w) => eq(actual, w));
    case 'matches':
      return actual !== undefined && typeof want === 'string' && new RegExp(want).test(actual);
    default: {
      if (actual === undefined || Array.isArray(want) || typeof want === 'boolean') return false;
      const [a, b] =
        isNumeric(actual) && isNumeric(String(want)) ? [+actual, +want] : [actual, String(want)];
      if (rule.op === '<') return a < b;
      if (rule.op === '<=') return a <= b;
      if (rule.op === '>') return a > b;
      return a >= b;
    }
  }
}

const isNumeric = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

const describe = (r: Rule) => `${r.field} ${r.op} ${JSON.stringify(r.value)}`;

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_MS = 24 * 3600_000;

/**
 * When the weekly window covering `now` ends, or undefined. A window whose `to` is not after its
 * `from` (22:00–06:00) runs overnight: it starts on a listed day and ends the next morning, so
 * the early hours belong to the previous day's window.
 */
function weeklyCover(weekly: NonNullable<Blackout['weekly']>, now: Date): Date | undefined {
  const minutesOf = (hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    return h * 60 + m;
  };
  const from = minutesOf(weekly.from);
  const to = minutesOf(weekly.to);
  const minutes = now.getUTCHours() * 60 + now.getUTCMinutes();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const listed = (day: number) => weekly.days.includes(DAYS[(day + 7) % 7]!);
  if (from < to) {
    return listed(now.getUTCDay()) && minutes >= from && minutes < to
      ? new Date(midnight + to * 60_000)
      : undefined;
  }
  if (listed(now.getUTCDay()) && minutes >= from) return new Date(midnight + DAY_MS + to * 60_000);
  if (listed(now.getUTCDay() - 1) && minutes < to) return new Date(midnight + to * 60_000);
  return undefined;
}

/** The blackout covering `now`, and when it ends. */
export function activeBlackout(
  blackouts: readonly Blackout[],
  now: Date,
): { name: string; until: Date } | undefined {
  for (const b of blackouts) {
    if (b.start && b.end) {
      const start = new Date(b.start);
      const end = new Date(b.end);
      if (now >= start && now < end) return { name: b.name, until: end };
    }
    if (b.weekly) {
      const covered = weeklyCover(b.weekly, now);
      if (covered) return { name: b.name, until: covered };
    }
  }
  return undefined;
}

/**
 * Decide a gate from what is known of its CR. Pure: the same snapshot, policy and clock give
 * the same verdict, which is what lets the worker replay its state after a restart.
 */
export function evaluate(
  policy: GatePolicy,
  change: ChangeSnapshot | undefined,
  now: Date,
): Verdict {
  if (!change) return { verdict: 'wait', reason: 'change request not read yet' };
  if (change.approval === 'rejected')
    return { verdict: 'reject', reason: `${change.number} was rejected` };
  if (change.state === STATE.canceled)
    return { verdict: 'reject', reason: `${change.number} was canceled` };
  if (change.state === STATE.closed)
    return { verdict: 'reject', reason: `${change.number} is already closed` };
  const rejecting = policy.rejectRules.find((r) => holds(r, change));
  if (rejecting) return { verdict: 'reject', reason: `reject rule holds: ${describe(rejecting)}` };

  if (change.approval !== 'approved') {
    return {
      verdict: 'wait',
      reason: `awaiting approval (approval is '${change.approval ?? 'unknown'}')`,
    };
  }
  const unmet = policy.rules.find((r) => !holds(r, change));
  if (unmet) return { verdict: 'wait', reason: `rule not met: ${describe(unmet)}` };

  if (policy.requireWindow) {
    const start = parseServiceNowTime(change.startDate);
    const end = parseServiceNowTime(change.endDate);
    if (end && now >= end) {
      return { verdict: 'wait', reason: `planned window ended at ${end.toISOString()}` };
    }
    if (start && now < start) {
      return {
        verdict: 'wait',
        reason: `planned window opens at ${start.toISOString()}`,
        until: start,
      };
    }
  }
  const blackout = activeBlackout(policy.blackouts, now);
  if (blackout) {
    return {
      verdict: 'wait',
      reason: `blackout '${blackout.name}' until ${blackout.until.toISOString()}`,
      until: blackout.until,
    };
  }
  if (!policy.requiredStates.includes(change.state ?? '')) {
    if (
      policy.advanceToImplement &&
      change.state === STATE.scheduled &&
      policy.requiredStates.includes(STATE.implement)
    ) {
      return {
        verdict: 'wait',
        reason: 'approved and in window: moving to Implement',
        advance: true,
      };
    }
    return {
      verdict: 'wait',
      reason: `state is ${change.state ?? 'unknown'}, needs ${policy.requiredStates.join(' or ')}`,
    };
  }
  return {
    verdict: 'release',
    reason: `${change.number} approved, state ${change.state}, inside its window`,
  };
}
