import type { GatePolicy } from '../config/changes.js';
import type {
  Approver,
  ChangeSnapshot,
  GatePredecidedData,
  GateRegisteredData,
} from '../events/gate.js';
import { STATE, evaluate } from './rules.js';
import { separationApplies, separationViolation } from './separation.js';
import type { CrState, GateEntry, Outcome } from './state.js';

export type { CrState, GateEntry, Outcome } from './state.js';
export type Input =
  | { kind: 'registered'; gate: GateRegisteredData }
  /** A gate the change worker decided at the request: called back at once, never held. */
  | { kind: 'predecided'; gate: GatePredecidedData }
  | { kind: 'change'; change: ChangeSnapshot }
  | { kind: 'tick' }
  /** The answer to a `read-approvers` effect. */
  | { kind: 'approvers'; approvedBy?: Approver[]; error?: string }
  | {
      kind: 'callback-done';
      gateId: string;
      status: 'done' | 'already-decided' | 'failed';
      httpStatus?: number;
      error?: string;
    }
  /** The CI system stayed unreachable through a round of attempts: call it again later. */
  | { kind: 'callback-failed'; gateId: string; error?: string }
  /** The move to Implement failed: ask again later. */
  | { kind: 'advance-failed'; error?: string };

export type Effect =
  | {
      kind: 'callback';
      gateId: string;
      outcome: Outcome;
      decision: 'approve' | 'reject';
      reason: string;
    }
  | {
      kind: 'decided';
      gateId: string;
      outcome: Outcome;
      reason: string;
      callback: 'done' | 'already-decided' | 'skipped' | 'failed';
      httpStatus?: number;
      error?: string;
    }
  | { kind: 'timer'; at: number }
  /**
   * A gate held by separation of duties: say why on the pipeline and in the audit ledger, once
   * per reason (a later approval by the same person does not say it again).
   */
  | { kind: 'held'; gateId: string; reason: string }
  /** Read who approved the CR (sysapproval_approver), once; answered with an `approvers` input. */
  | { kind: 'read-approvers'; sysId: string; number: string }
  | { kind: 'advance'; sysId: string; number: string }
  | { kind: 'left-implement'; sysId: string; number: string; state: string };

export interface StepContext {
  now: number;
  policyOf: (name: string) => GatePolicy;
  /** Backoff between rounds of callback attempts (`gates.callbackRetry`). */
  callbackRetry?: { firstDelaySeconds: number; maxDelayMinutes: number };
  /** How long a callback asked for is in flight before the machine asks for it again. */
  callbackLeaseMs?: number;
  /** [0, 1) for the backoff's jitter; default 0.5 (no jitter). */
  random?: () => number;
}

const DEFAULT_RETRY = { firstDelaySeconds: 30, maxDelayMinutes: 30 };
const DEFAULT_LEASE_MS = 30_000;
const ADVANCE_RETRY_MS = 30_000;

/** When a gate deciding after `rounds` unreachable rounds calls again. */
export function callbackRetryAt(ctx: StepContext, rounds: number): number {
  const retry = ctx.callbackRetry ?? DEFAULT_RETRY;
  const base = Math.min(
    retry.firstDelaySeconds * 1000 * 2 ** (rounds - 1),
    retry.maxDelayMinutes * 60_000,
  );
  return ctx.now + Math.round(base * (0.75 + (ctx.random?.() ?? 0.5) / 2));
}

/**
 * The gate state machine for one CR: (state, input) → (state, effects). Pure, so replaying the
 * same inputs after a restart gives the same decisions, and every case is a unit test.
 *
 * A gate registered after its CR was approved and an approval that arrives after the gate are
 * the same case: both end with a snapshot and a waiting gate, then one evaluation. A gate moves
 * waiting → deciding → released|rejected|expired and never back, so its callback is asked for
 * once; the worker persists `deciding` before calling and repeats the call after a crash, which
 * the CI side answers "already decided". The retry intent is state too: a deciding gate carries
 * `retryAt` (when to call, a lease while a call is in flight) and is called again by whatever
 * input comes once that time has passed (a timer at `nextWake`), so nothing outside the machine
 * has to remember that a callback or a move to Implement is still owed.
 */
export function step(
  previous: CrState | undefined,
  input: Input,
  ctx: StepContext,
): { state: CrState; effects: Effect[] } {
  const number =
    previous?.number ??
    (input.kind === 'registered'
      ? input.gate.changeNumber
      : input.kind === 'predecided'
        ? (input.gate.changeNumber ?? input.gate.correlationId)
        : input.kind === 'change'
          ? input.change.number
          : '');
  const state: CrState = previous
    ? { ...previous, gates: { ...previous.gates }, touchedAt: ctx.now }
    : { number, gates: {}, touchedAt: ctx.now };
  const effects: Effect[] = [];

  switch (input.kind) {
    case 'registered': {
      const { gate } = input;
      if (!state.gates[gate.gateId]) {
        const policy = ctx.policyOf(gate.policy);
        state.gates[gate.gateId] = {
          gate,
          status: 'waiting',
          expiresAt: Date.parse(gate.registeredAt) + policy.timeoutMinutes * 60_000,
          reason: 'registered',
          triggeredAt: ctx.now,
        };
      }
      if (gate.change && isNewer(gate.change, state.change)) state.change = gate.change;
      break;
    }
    case 'predecided': {
      // Straight to deciding: the callback below is asked for once; a redelivered request finds
      // the gate and adds nothing. Its CR snapshot (if any) is not this gate's to update.
      const { decided, ...gate } = input.gate;
      if (!state.gates[gate.gateId]) {
        state.gates[gate.gateId] = {
          gate,
          status: 'deciding',
          outcome: decided.outcome,
          reason: decided.reason,
          expiresAt: Date.parse(gate.registeredAt),
          triggeredAt: ctx.now,
        };
      }
      break;
    }
    case 'change': {
      if (!isNewer(input.change, state.change)) break;
      const before = state.change?.state;
      state.change = input.change;
      for (const [id, entry] of Object.entries(state.gates)) {
        if (entry.status === 'waiting') state.gates[id] = { ...entry, triggeredAt: ctx.now };
      }
      const leftImplement =
        before === STATE.implement &&
        input.change.state !== undefined &&
        ![STATE.implement, STATE.review, STATE.closed].includes(input.change.state as never);
      const released = Object.values(state.gates).some((g) => g.status === 'released');
      if (leftImplement && released && !state.leftImplementReported) {
        state.leftImplementReported = true;
        effects.push({
          kind: 'left-implement',
          sysId: input.change.sysId,
          number: state.number,
          state: input.change.state!,
        });
      }
      if (input.change.state !== STATE.scheduled) state.advanceRequested = false;
      if (input.change.approval !== undefined && input.change.approval !== 'approved') {
        delete state.approvedBy;
        delete state.approversRequested;
        delete state.approversError;
      }
      break;
    }
    case 'callback-done': {
      const entry = state.gates[input.gateId];
      if (entry?.status === 'deciding' && entry.outcome) {
        state.gates[input.gateId] = { ...entry, status: entry.outcome, decidedAt: ctx.now };
        effects.push({
          kind: 'decided',
          gateId: input.gateId,
          outcome: entry.outcome,
          reason: entry.reason,
          callback: input.status,
          ...(input.httpStatus !== undefined ? { httpStatus: input.httpStatus } : {}),
          ...(input.error !== undefined ? { error: input.error } : {}),
        });
      }
      break;
    }
    case 'callback-failed': {
      const entry = state.gates[input.gateId];
      if (entry?.status === 'deciding') {
        const rounds = (entry.callbackRounds ?? 0) + 1;
        const retryAt = callbackRetryAt(ctx, rounds);
        state.gates[input.gateId] = { ...entry, callbackRounds: rounds, retryAt };
        effects.push({ kind: 'timer', at: retryAt });
      }
      break;
    }
    case 'advance-failed': {
      state.advanceRequested = false;
      state.advanceRetryAt = ctx.now + ADVANCE_RETRY_MS;
      effects.push({ kind: 'timer', at: state.advanceRetryAt });
      break;
    }
    case 'approvers': {
      state.approversRequested = false;
      if (input.approvedBy) {
        state.approvedBy = input.approvedBy;
        delete state.approversError;
      } else {
        state.approversError = input.error ?? 'unknown error';
      }
      break;
    }
    case 'tick':
      break;
  }

  const lease = ctx.callbackLeaseMs ?? DEFAULT_LEASE_MS;
  for (const [gateId, entry] of Object.entries(state.gates)) {
    // A decision whose callback is owed (never answered, or unreachable until now): call again.
    if (entry.status !== 'deciding' || !entry.outcome) continue;
    if (entry.retryAt !== undefined && entry.retryAt > ctx.now) continue;
    state.gates[gateId] = { ...entry, retryAt: ctx.now + lease };
    effects.push({
      kind: 'callback',
      gateId,
      outcome: entry.outcome,
      decision: entry.outcome === 'released' ? 'approve' : 'reject',
      reason: entry.reason,
    });
  }

  for (const [gateId, entry] of Object.entries(state.gates)) {
    if (entry.status !== 'waiting') continue;
    const policy = ctx.policyOf(entry.gate.policy);
    if (ctx.now >= entry.expiresAt) {
      const reason = `no decision within ${policy.timeoutMinutes} minutes`;
      if (policy.onTimeout === 'reject') {
        state.gates[gateId] = {
          ...entry,
          status: 'deciding',
          outcome: 'expired',
          reason,
          retryAt: ctx.now + lease,
        };
        effects.push({ kind: 'callback', gateId, outcome: 'expired', decision: 'reject', reason });
      } else {
        state.gates[gateId] = {
          ...entry,
          status: 'expired',
          outcome: 'expired',
          reason,
          decidedAt: ctx.now,
        };
        effects.push({ kind: 'decided', gateId, outcome: 'expired', reason, callback: 'skipped' });
      }
      continue;
    }
    const verdict = evaluate(policy, state.change, new Date(ctx.now));
    if (verdict.verdict === 'wait') {
      const { until: _until, ...rest } = entry;
      state.gates[gateId] = {
        ...rest,
        reason: verdict.reason,
        ...(verdict.until ? { until: verdict.until.getTime() } : {}),
      };
      effects.push({ kind: 'timer', at: entry.expiresAt });
      if (verdict.until) effects.push({ kind: 'timer', at: verdict.until.getTime() });
      const advanceDue = state.advanceRetryAt === undefined || state.advanceRetryAt <= ctx.now;
      if (verdict.advance && !state.advanceRequested && advanceDue && state.change) {
        state.advanceRequested = true;
        delete state.advanceRetryAt;
        effects.push({ kind: 'advance', sysId: state.change.sysId, number: state.number });
      }
      // Approved but not releasable yet (moving to Implement, window, blackout): read who
      // approved now, at the approval, so the release does not wait on it.
      if (
        state.change?.approval === 'approved' &&
        state.approvedBy === undefined &&
        !state.approversRequested &&
        !state.approversError
      ) {
        state.approversRequested = true;
        effects.push({ kind: 'read-approvers', sysId: state.change.sysId, number: state.number });
      }
      continue;
    }
    let outcome: Outcome = verdict.verdict === 'release' ? 'released' : 'rejected';
    let reason = verdict.reason;
    if (outcome === 'released' && state.change) {
      // Who approved is read once, before the first release, and travels with every release.
      if (state.approvedBy === undefined && !state.approversError) {
        state.gates[gateId] = { ...entry, reason: `${verdict.reason}; reading who approved` };
        if (!state.approversRequested) {
          state.approversRequested = true;
          effects.push({ kind: 'read-approvers', sysId: state.change.sysId, number: state.number });
        }
        continue;
      }
      const sod = policy.separationOfDuties;
      if (state.approvedBy === undefined && separationApplies(sod, entry.gate.environment)) {
        state.gates[gateId] = {
          ...entry,
          reason: `approved, but separation of duties cannot be checked: the approvers could not be read (${state.approversError})`,
        };
        effects.push({ kind: 'timer', at: entry.expiresAt });
        continue;
      }
      const violation = separationViolation(sod, entry.gate, state.approvedBy ?? []);
      if (violation && sod.onViolation === 'hold') {
        const held = `${violation}; held for another approval`;
        if (entry.reason !== held) effects.push({ kind: 'held', gateId, reason: held });
        state.gates[gateId] = { ...entry, reason: held };
        effects.push({ kind: 'timer', at: entry.expiresAt });
        continue;
      }
      if (violation) {
        outcome = 'rejected';
        reason = violation;
      }
    }
    state.gates[gateId] = {
      ...entry,
      status: 'deciding',
      outcome,
      reason,
      retryAt: ctx.now + lease,
    };
    effects.push({
      kind: 'callback',
      gateId,
      outcome,
      decision: outcome === 'released' ? 'approve' : 'reject',
      reason,
    });
  }
  return { state, effects: dedupeTimers(effects) };
}

/**
 * Out-of-order business-rule messages must not undo a newer state: `sys_mod_count` orders
 * updates (it grows by one per update); without it, `sys_updated_on` does, to the second.
 */
export function isNewer(candidate: ChangeSnapshot, current: ChangeSnapshot | undefined): boolean {
  if (!current) return true;
  if (candidate.modCount !== undefined && current.modCount !== undefined) {
    return candidate.modCount > current.modCount;
  }
  if (candidate.updatedAt && current.updatedAt) return candidate.updatedAt >= current.updatedAt;
  return true;
}

function dedupeTimers(effects: Effect[]): Effect[] {
  const seen = new Set<number>();
  return effects.filter((e) => {
    if (e.kind !== 'timer') return true;
    if (seen.has(e.at)) return false;
    seen.add(e.at);
    return true;
  });
}

/** Gates still waiting or deciding: what must survive a restart with live timers. */
export function openGates(state: CrState): GateEntry[] {
  return Object.values(state.gates).filter(
    (g) => g.status === 'waiting' || g.status === 'deciding',
  );
}

/**
 * When the machine wants its next `tick` for this CR: a waiting gate's expiry or re-evaluation
 * (window start, blackout end), a deciding gate's next callback, a move to Implement to ask
 * again; undefined when nothing is open.
 */
export function nextWake(state: CrState): number | undefined {
  const times: number[] = [];
  for (const g of Object.values(state.gates)) {
    if (g.status === 'waiting') {
      times.push(g.expiresAt);
      if (g.until !== undefined) times.push(g.until);
    } else if (g.status === 'deciding') {
      // No retryAt: decided by a worker before retry intent was state (carried over): call now.
      times.push(g.retryAt ?? 0);
    }
  }
  if (times.length > 0 && state.advanceRetryAt !== undefined) times.push(state.advanceRetryAt);
  return times.length > 0 ? Math.min(...times) : undefined;
}
