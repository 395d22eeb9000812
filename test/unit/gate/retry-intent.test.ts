import { describe, expect, it } from 'vitest';
import { GatePolicySchema } from '../../../src/config/changes.js';
import type { ChangeSnapshot, GateRegisteredData } from '../../../src/events/gate.js';
import {
  callbackRetryAt,
  nextWake,
  step,
  type CrState,
  type Input,
  type StepContext,
} from '../../../src/gate/machine.js';
import { STATE } from '../../../src/gate/rules.js';
import { CrStateSchema } from '../../../src/gate/state.js';
import { crStateOfRecord } from '../../../src/workers/gate/state-record.js';

/**
 * Retry intent as machine state: a deciding gate says when its CI system is called next, a
 * failed move to Implement says when it is asked again, and `nextWake` is the one timer the
 * worker arms, so nothing outside the machine remembers what is still owed.
 */

const T0 = Date.parse('2026-11-25T10:00:00Z');
const SECOND = 1000;
const MINUTE = 60_000;
const NUMBER = 'CHG0060001';
const policy = GatePolicySchema.parse({ timeoutMinutes: 60 });
const ctx = (now: number, extra: Partial<StepContext> = {}): StepContext => ({
  now,
  policyOf: () => policy,
  callbackRetry: { firstDelaySeconds: 30, maxDelayMinutes: 5 },
  callbackLeaseMs: 20 * SECOND,
  ...extra,
});
const change = (overrides: Partial<ChangeSnapshot> = {}): ChangeSnapshot => ({
  sysId: 'sys-60001',
  number: NUMBER,
  state: STATE.implement,
  approval: 'approved',
  fields: {},
  modCount: 3,
  ...overrides,
});
const gate: GateRegisteredData = {
  gateId: 'g1',
  changeNumber: NUMBER,
  changeSysId: 'sys-60001',
  provider: 'gitlab',
  project: 'acme/payments',
  environment: 'staging',
  deploymentId: 'g1',
  correlationId: 'gitlab/acme/payments/g1',
  callback: { kind: 'gitlab', url: 'https://gitlab.example/approval/g1', params: {} },
  policy: 'default',
  registeredAt: new Date(T0).toISOString(),
  change: change(),
};

/** Registered on an approved CR, approvers answered: deciding, its callback asked for. */
function deciding(): CrState {
  const first = step(undefined, { kind: 'registered', gate }, ctx(T0));
  const answered = step(
    first.state,
    { kind: 'approvers', approvedBy: [{ sysId: 'u1', userName: 'cab' }] },
    ctx(T0),
  );
  expect(answered.effects.filter((e) => e.kind === 'callback')).toHaveLength(1);
  return answered.state;
}
const callbacksOf = (out: { effects: { kind: string }[] }) =>
  out.effects.filter((e) => e.kind === 'callback');
const unreachable: Input = { kind: 'callback-failed', gateId: 'g1', error: 'ECONNREFUSED' };

describe('retry intent in the gate machine', () => {
  it('holds a lease on a callback in flight, so another input does not ask for it twice', () => {
    const state = deciding();
    expect(state.gates.g1).toMatchObject({ status: 'deciding', retryAt: T0 + 20 * SECOND });
    expect(callbacksOf(step(state, { kind: 'tick' }, ctx(T0 + 5 * SECOND)))).toHaveLength(0);
    expect(nextWake(state)).toBe(T0 + 20 * SECOND);
  });

  it('asks for the callback again once the lease ran out (the worker died mid-call)', () => {
    const again = step(deciding(), { kind: 'tick' }, ctx(T0 + 21 * SECOND));
    expect(callbacksOf(again)).toEqual([
      expect.objectContaining({ gateId: 'g1', decision: 'approve', outcome: 'released' }),
    ]);
  });

  it('schedules rounds of an unreachable CI system with doubling backoff up to the cap', () => {
    let state = deciding();
    const waits: number[] = [];
    let now = T0;
    for (let round = 1; round <= 6; round++) {
      const failed = step(state, unreachable, ctx(now));
      const retryAt = failed.state.gates.g1!.retryAt!;
      expect(failed.effects).toContainEqual({ kind: 'timer', at: retryAt });
      waits.push((retryAt - now) / SECOND);
      expect(callbacksOf(step(failed.state, { kind: 'tick' }, ctx(retryAt - 1)))).toHaveLength(0);
      const due = step(failed.state, { kind: 'tick' }, ctx(retryAt));
      expect(callbacksOf(due)).toHaveLength(1);
      state = due.state;
      now = retryAt;
    }
    expect(waits).toEqual([30, 60, 120, 240, 300, 300]);
    expect(state.gates.g1!.callbackRounds).toBe(6);
  });

  it('ends the retries with the one decision once the CI system answers', () => {
    const failed = step(deciding(), unreachable, ctx(T0));
    const retryAt = failed.state.gates.g1!.retryAt!;
    const due = step(failed.state, { kind: 'tick' }, ctx(retryAt));
    const done = step(
      due.state,
      { kind: 'callback-done', gateId: 'g1', status: 'done', httpStatus: 204 },
      ctx(retryAt + 100),
    );
    expect(done.state.gates.g1!.status).toBe('released');
    expect(done.effects.filter((e) => e.kind === 'decided')).toHaveLength(1);
    expect(callbacksOf(step(done.state, { kind: 'tick' }, ctx(retryAt + MINUTE)))).toHaveLength(0);
    expect(nextWake(done.state)).toBeUndefined();
  });

  it('calls at once for a deciding gate that carries no retry time (state of an older worker)', () => {
    const state = deciding();
    const { retryAt: _retryAt, ...older } = state.gates.g1!;
    const carried: CrState = { ...state, gates: { g1: older } };
    expect(nextWake(carried)).toBe(0);
    expect(callbacksOf(step(carried, { kind: 'tick' }, ctx(T0 + 1)))).toHaveLength(1);
  });

  it('jitters the backoff with the random source it is given', () => {
    expect(callbackRetryAt(ctx(T0, { random: () => 0 }), 1) - T0).toBe(22.5 * SECOND);
    expect(callbackRetryAt(ctx(T0, { random: () => 0.999999 }), 1) - T0).toBeCloseTo(
      37.5 * SECOND,
      -2,
    );
  });

  it('asks for a failed move to Implement again only once its retry time came', () => {
    const scheduled = change({ state: STATE.scheduled, modCount: 1 });
    const first = step(
      undefined,
      { kind: 'registered', gate: { ...gate, change: scheduled } },
      ctx(T0),
    );
    expect(first.effects.filter((e) => e.kind === 'advance')).toHaveLength(1);
    const failed = step(first.state, { kind: 'advance-failed', error: '403' }, ctx(T0 + 100));
    expect(failed.effects.filter((e) => e.kind === 'advance')).toHaveLength(0);
    expect(nextWake(failed.state)).toBe(T0 + 100 + 30 * SECOND);
    const early = step(failed.state, { kind: 'tick' }, ctx(T0 + 10 * SECOND));
    expect(early.effects.filter((e) => e.kind === 'advance')).toHaveLength(0);
    const due = step(failed.state, { kind: 'tick' }, ctx(T0 + 31 * SECOND));
    expect(due.effects.filter((e) => e.kind === 'advance')).toHaveLength(1);
  });

  it('wakes for the window start of a waiting gate before its expiry', () => {
    const opens = '2026-11-25 11:00:00';
    const windowed = change({
      state: STATE.scheduled,
      startDate: opens,
      endDate: '2026-11-25 12:00:00',
    });
    const out = step(
      undefined,
      { kind: 'registered', gate: { ...gate, change: windowed } },
      ctx(T0),
    );
    expect(out.state.gates.g1!.status).toBe('waiting');
    expect(nextWake(out.state)).toBeLessThanOrEqual(T0 + 60 * MINUTE);
  });

  it('round-trips its state through the schema the changelog is read with', () => {
    const state = step(deciding(), unreachable, ctx(T0)).state;
    expect(CrStateSchema.parse(JSON.parse(JSON.stringify(state)))).toEqual(state);
    const envelope = Buffer.from(JSON.stringify({ state, timers: { wake: T0 } }));
    expect(crStateOfRecord(envelope)).toEqual(state);
    expect(crStateOfRecord(null)).toBeNull();
    expect(crStateOfRecord(Buffer.from(JSON.stringify({ state: { number: 1 } })))).toBeUndefined();
  });
});
