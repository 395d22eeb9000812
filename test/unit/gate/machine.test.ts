import { describe, expect, it } from 'vitest';
import { GatePolicySchema, type GatePolicy } from '../../../src/config/changes.js';
import type { Approver, ChangeSnapshot, GateRegisteredData } from '../../../src/events/gate.js';
import {
  isNewer,
  openGates,
  step,
  type CrState,
  type Effect,
  type Input,
  type StepContext,
} from '../../../src/gate/machine.js';
import { STATE } from '../../../src/gate/rules.js';

const T0 = Date.parse('2026-11-25T10:00:00Z');
const MINUTE = 60_000;
const NUMBER = 'CHG0050001';

const POLICIES: Record<string, GatePolicy> = {
  default: GatePolicySchema.parse({ timeoutMinutes: 60 }),
  leave: GatePolicySchema.parse({ timeoutMinutes: 60, onTimeout: 'leave' }),
  hold: GatePolicySchema.parse({ timeoutMinutes: 60, separationOfDuties: { onViolation: 'hold' } }),
  mapped: GatePolicySchema.parse({
    timeoutMinutes: 60,
    separationOfDuties: { identities: { 'octo-dev': 'abel.tuter' } },
  }),
  own: GatePolicySchema.parse({
    timeoutMinutes: 60,
    separationOfDuties: { integrationUsers: ['abel.tuter'] },
  }),
};

const ctx = (now = T0): StepContext => ({
  now,
  policyOf: (name) => POLICIES[name] ?? POLICIES.default!,
});

let modCount = 0;
/** A snapshot newer than every earlier one (sys_mod_count grows), unless `modCount` is given. */
function snapshot(overrides: Partial<ChangeSnapshot> = {}): ChangeSnapshot {
  return {
    sysId: 'sys-50001',
    number: NUMBER,
    state: STATE.authorize,
    approval: 'requested',
    startDate: '2026-11-25 09:00:00',
    endDate: '2026-11-25 12:00:00',
    fields: {},
    modCount: ++modCount,
    ...overrides,
  };
}
const approved = (overrides: Partial<ChangeSnapshot> = {}) =>
  snapshot({ state: STATE.implement, approval: 'approved', ...overrides });

function gate(gateId: string, overrides: Partial<GateRegisteredData> = {}): GateRegisteredData {
  return {
    gateId,
    changeNumber: NUMBER,
    changeSysId: 'sys-50001',
    provider: 'gitlab',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: gateId,
    correlationId: `gitlab/acme/payments/${gateId}`,
    callback: { kind: 'gitlab', url: `https://gitlab.example/approval/${gateId}`, params: {} },
    policy: 'default',
    registeredAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

/** The approvers the "worker" answers a read with (tests of separation of duties set them). */
let APPROVERS: Approver[] = [];

/**
 * One step as the worker runs it: a `read-approvers` effect is answered at once with
 * {@link APPROVERS} (the worker queues the answer as the next input), and only the effects that
 * matter outside the machine are returned. Tests of the read itself use `step`.
 */
function drive(previous: CrState | undefined, input: Input, c: StepContext) {
  let { state, effects } = step(previous, input, c);
  const out: Effect[] = [];
  for (let i = 0; i < 5; i++) {
    const reads = effects.filter((e) => e.kind === 'read-approvers');
    out.push(...effects.filter((e) => e.kind !== 'read-approvers'));
    if (reads.length === 0) break;
    ({ state, effects } = step(state, { kind: 'approvers', approvedBy: APPROVERS }, c));
  }
  // The answer's step re-arms the same timers; arming one twice is a no-op in the worker.
  const armed = new Set<number>();
  return {
    state,
    effects: out.filter((e) => e.kind !== 'timer' || (!armed.has(e.at) && !!armed.add(e.at))),
  };
}

/** Feed inputs in order (each at its own time) and collect every effect. */
function run(inputs: [Input, number?][], initial?: CrState) {
  let state = initial;
  const effects: Effect[] = [];
  for (const [input, now] of inputs) {
    const next = drive(state, input, ctx(now));
    state = next.state;
    effects.push(...next.effects);
  }
  return { state: state!, effects };
}

const callbacks = (effects: Effect[]) => effects.filter((e) => e.kind === 'callback');
const registered = (g: GateRegisteredData): Input => ({ kind: 'registered', gate: g });
const changed = (c: ChangeSnapshot): Input => ({ kind: 'change', change: c });
const done = (gateId: string): Input => ({
  kind: 'callback-done',
  gateId,
  status: 'done',
  httpStatus: 204,
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('step', () => {
  it('registers a gate that waits for approval, then releases it once the CR is approved and implementing', () => {
    const first = run([[registered(gate('g1', { change: snapshot() }))]]);
    expect(first.state.gates.g1).toMatchObject({ status: 'waiting', expiresAt: T0 + 60 * MINUTE });
    expect(first.effects).toEqual([{ kind: 'timer', at: T0 + 60 * MINUTE }]);

    const second = drive(first.state, changed(approved()), ctx(T0 + MINUTE));
    expect(second.effects).toEqual([
      {
        kind: 'callback',
        gateId: 'g1',
        outcome: 'released',
        decision: 'approve',
        reason: `${NUMBER} approved, state -1, inside its window`,
      },
    ]);
    expect(second.state.gates.g1).toMatchObject({
      status: 'deciding',
      outcome: 'released',
      triggeredAt: T0 + MINUTE,
    });
  });

  it('releases at registration when the approval arrived first', () => {
    const { state, effects } = run([[changed(approved())], [registered(gate('g1'))]]);
    expect(callbacks(effects)).toEqual([
      expect.objectContaining({ gateId: 'g1', decision: 'approve' }),
    ]);
    expect(state.number).toBe(NUMBER);
    expect(state.gates.g1?.status).toBe('deciding');
  });

  it('releases at registration when the CR read at registration is already approved', () => {
    const { effects } = run([[registered(gate('g1', { change: approved() }))]]);
    expect(callbacks(effects)).toHaveLength(1);
  });

  it('ignores a duplicate registration of the same gate', () => {
    const g = gate('g1', { change: snapshot() });
    const { state, effects } = run([
      [registered(g)],
      [changed(approved())],
      [registered({ ...g, registeredAt: new Date(T0 + 5 * MINUTE).toISOString() })],
    ]);
    expect(callbacks(effects)).toHaveLength(1);
    expect(Object.keys(state.gates)).toEqual(['g1']);
    expect(state.gates.g1?.expiresAt).toBe(T0 + 60 * MINUTE);
  });

  it('ignores snapshots older by sys_mod_count', () => {
    const newer = approved({ modCount: 10 });
    const { state, effects } = run([
      [changed(newer)],
      [changed(snapshot({ modCount: 9, approval: 'rejected', state: STATE.new }))],
      [changed(snapshot({ modCount: 10, approval: 'rejected', state: STATE.new }))],
      [registered(gate('g1'))],
    ]);
    expect(state.change).toEqual(newer);
    expect(callbacks(effects)).toEqual([expect.objectContaining({ decision: 'approve' })]);
  });

  it('ignores snapshots older by sys_updated_on when there is no sys_mod_count', () => {
    const base = { modCount: undefined };
    const newer = approved({ ...base, updatedAt: '2026-11-25 10:00:05' });
    const older = snapshot({ ...base, updatedAt: '2026-11-25 10:00:04', approval: 'rejected' });
    const { state } = run([[changed(newer)], [changed(older)]]);
    expect(state.change).toEqual(newer);
    // The same second may hold a later update: it is applied.
    const sameSecond = snapshot({ ...base, updatedAt: '2026-11-25 10:00:05', state: STATE.review });
    expect(drive(state, changed(sameSecond), ctx()).state.change).toEqual(sameSecond);
  });

  it('decides every gate of one CR once', () => {
    const { state, effects } = run([
      [registered(gate('g1', { change: snapshot() }))],
      [registered(gate('g2', { environment: 'production-eu' }))],
      [changed(approved())],
      [changed(approved())],
      [{ kind: 'tick' }],
    ]);
    expect(
      callbacks(effects)
        .map((e) => e.kind === 'callback' && e.gateId)
        .sort(),
    ).toEqual(['g1', 'g2']);
    expect(openGates(state)).toHaveLength(2); // both deciding until the CI answers
  });

  it('moves deciding to released on the callback answer, exactly once', () => {
    const before = run([[registered(gate('g1', { change: approved() }))]]).state;
    const first = drive(before, done('g1'), ctx(T0 + 1000));
    expect(first.state.gates.g1).toMatchObject({ status: 'released', decidedAt: T0 + 1000 });
    expect(first.effects).toEqual([
      {
        kind: 'decided',
        gateId: 'g1',
        outcome: 'released',
        reason: `${NUMBER} approved, state -1, inside its window`,
        callback: 'done',
        httpStatus: 204,
      },
    ]);
    const again = drive(first.state, done('g1'), ctx(T0 + 2000));
    expect(again.effects).toEqual([]);
    expect(again.state.gates.g1?.decidedAt).toBe(T0 + 1000);
    expect(openGates(again.state)).toEqual([]);
  });

  it('ignores a callback answer for a gate that is not deciding or not known', () => {
    const waiting = run([[registered(gate('g1', { change: snapshot() }))]]).state;
    expect(drive(waiting, done('g1'), ctx()).state.gates.g1?.status).toBe('waiting');
    expect(drive(waiting, done('nope'), ctx()).effects).toEqual([
      { kind: 'timer', at: T0 + 60 * MINUTE },
    ]);
  });

  it('rejects a gate whose CR was rejected, with a reject callback', () => {
    const { state, effects } = run([
      [registered(gate('g1', { change: snapshot() }))],
      [changed(snapshot({ approval: 'rejected', state: STATE.new }))],
      [done('g1')],
    ]);
    expect(callbacks(effects)).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        decision: 'reject',
        reason: `${NUMBER} was rejected`,
      }),
    ]);
    expect(state.gates.g1?.status).toBe('rejected');
  });

  it('expires an undecided gate with a reject callback when onTimeout is reject', () => {
    const { state, effects } = run([
      [registered(gate('g1', { change: snapshot() }))],
      [{ kind: 'tick' }, T0 + 60 * MINUTE - 1],
      [{ kind: 'tick' }, T0 + 60 * MINUTE],
    ]);
    expect(callbacks(effects)).toEqual([
      {
        kind: 'callback',
        gateId: 'g1',
        outcome: 'expired',
        decision: 'reject',
        reason: 'no decision within 60 minutes',
      },
    ]);
    expect(state.gates.g1?.status).toBe('deciding');
    expect(drive(state, done('g1'), ctx(T0 + 61 * MINUTE)).state.gates.g1?.status).toBe('expired');
  });

  it('expires an undecided gate without a callback when onTimeout is leave', () => {
    const { state, effects } = run([
      [registered(gate('g1', { policy: 'leave', change: snapshot() }))],
      [{ kind: 'tick' }, T0 + 60 * MINUTE],
      [changed(approved()), T0 + 61 * MINUTE],
    ]);
    expect(callbacks(effects)).toEqual([]);
    expect(effects.filter((e) => e.kind === 'decided')).toEqual([
      {
        kind: 'decided',
        gateId: 'g1',
        outcome: 'expired',
        reason: 'no decision within 60 minutes',
        callback: 'skipped',
      },
    ]);
    expect(state.gates.g1).toMatchObject({ status: 'expired', decidedAt: T0 + 60 * MINUTE });
  });

  it('arms timers for the window start and the expiry, once each', () => {
    const early = approved({ startDate: '2026-11-25 10:30:00' });
    const opens = Date.parse('2026-11-25T10:30:00Z');
    expect(drive(undefined, registered(gate('g1', { change: early })), ctx()).effects).toEqual([
      { kind: 'timer', at: T0 + 60 * MINUTE },
      { kind: 'timer', at: opens },
    ]);
    // Two gates waiting for the same two times: each time is asked for once per step.
    const both = run([[registered(gate('g1', { change: early }))], [registered(gate('g2'))]]);
    expect(callbacks(both.effects)).toEqual([]);
    const tick = drive(both.state, { kind: 'tick' }, ctx(T0 + MINUTE));
    expect(tick.effects).toEqual([
      { kind: 'timer', at: T0 + 60 * MINUTE },
      { kind: 'timer', at: opens },
    ]);
    // The tick at the window start releases both.
    const opened = drive(tick.state, { kind: 'tick' }, ctx(opens));
    expect(callbacks(opened.effects).map((e) => e.kind === 'callback' && e.gateId)).toEqual([
      'g1',
      'g2',
    ]);
  });

  it('asks once to move an approved Scheduled CR to Implement, and releases when it gets there', () => {
    const { state, effects } = run([
      [registered(gate('g1', { change: snapshot() }))],
      [changed(approved({ state: STATE.scheduled }))],
      [changed(approved({ state: STATE.scheduled, fields: { work_notes: 'x' } }))],
      [{ kind: 'tick' }],
    ]);
    expect(effects.filter((e) => e.kind === 'advance')).toEqual([
      { kind: 'advance', sysId: 'sys-50001', number: NUMBER },
    ]);
    expect(callbacks(effects)).toEqual([]);
    const implementing = drive(state, changed(approved()), ctx());
    expect(callbacks(implementing.effects)).toHaveLength(1);
    expect(implementing.state.advanceRequested).toBe(false);
  });

  it('reports once that a CR left Implement after it released a deployment', () => {
    const { state, effects } = run([
      [registered(gate('g1', { change: approved() }))],
      [done('g1')],
      [changed(approved({ state: STATE.scheduled }))],
      [changed(approved())],
      [changed(approved({ state: STATE.canceled }))],
    ]);
    expect(effects.filter((e) => e.kind === 'left-implement')).toEqual([
      { kind: 'left-implement', sysId: 'sys-50001', number: NUMBER, state: STATE.scheduled },
    ]);
    expect(state.leftImplementReported).toBe(true);
  });

  it('does not report leaving Implement for Review or Closed, nor before anything was released', () => {
    const normal = run([
      [registered(gate('g1', { change: approved() }))],
      [done('g1')],
      [changed(approved({ state: STATE.review }))],
    ]);
    expect(normal.effects.filter((e) => e.kind === 'left-implement')).toEqual([]);
    const unreleased = run([
      [changed(approved({ fields: { u_cab_ok: 'false' } }))],
      [changed(approved({ state: STATE.canceled }))],
    ]);
    expect(unreleased.effects.filter((e) => e.kind === 'left-implement')).toEqual([]);
  });

  it('never mutates the state or the input it is given', () => {
    const inputs: Input[] = [
      registered(gate('g1', { change: snapshot() })),
      registered(gate('g2', { policy: 'leave' })),
      changed(approved({ state: STATE.scheduled })),
      changed(approved()),
      done('g1'),
      changed(approved({ state: STATE.canceled })),
      { kind: 'tick' },
    ];
    let state: CrState | undefined;
    for (const [i, input] of inputs.entries()) {
      const before = structuredClone(state);
      const frozenInput = deepFreeze(structuredClone(input));
      const next = drive(
        state === undefined ? undefined : deepFreeze(state),
        frozenInput,
        ctx(T0 + i * 1000),
      );
      expect(state).toEqual(before);
      state = next.state;
    }
    expect(state!.gates.g1?.status).toBe('released');
    expect(state!.gates.g2?.status).toBe('deciding');
  });

  it('gives the same result for the same state, input and clock', () => {
    const base = run([[registered(gate('g1', { change: snapshot() }))]]).state;
    const input = changed(approved());
    expect(drive(base, input, ctx(T0 + 5))).toEqual(drive(base, input, ctx(T0 + 5)));
  });
});

describe('isNewer', () => {
  const s = (modCount?: number, updatedAt?: string): ChangeSnapshot => ({
    sysId: 'x',
    number: NUMBER,
    fields: {},
    ...(modCount !== undefined ? { modCount } : {}),
    ...(updatedAt !== undefined ? { updatedAt } : {}),
  });

  it('takes anything when nothing is known yet', () => {
    expect(isNewer(s(0), undefined)).toBe(true);
  });

  it('orders by sys_mod_count when both have one, whatever sys_updated_on says', () => {
    expect(isNewer(s(3, '2026-01-01 00:00:00'), s(2, '2026-12-01 00:00:00'))).toBe(true);
    expect(isNewer(s(2), s(2))).toBe(false);
    expect(isNewer(s(1, '2026-12-01 00:00:00'), s(2, '2026-01-01 00:00:00'))).toBe(false);
  });

  it('falls back to sys_updated_on, accepting the same second', () => {
    expect(isNewer(s(undefined, '2026-11-25 10:00:01'), s(undefined, '2026-11-25 10:00:00'))).toBe(
      true,
    );
    expect(isNewer(s(undefined, '2026-11-25 10:00:00'), s(undefined, '2026-11-25 10:00:00'))).toBe(
      true,
    );
    expect(isNewer(s(undefined, '2026-11-25 09:59:59'), s(undefined, '2026-11-25 10:00:00'))).toBe(
      false,
    );
  });

  it('takes a snapshot it cannot order', () => {
    expect(isNewer(s(), s(4))).toBe(true);
  });
});

describe('who approved, and separation of duties', () => {
  const ABEL: Approver = { sysId: 'u1', userName: 'abel.tuter', email: 'abel@acme.example' };
  const sodCtx = ctx;
  const author = { email: 'ABEL@acme.example', login: 'abel-gh' };

  it('asks once who approved before the first release, then releases with the names', () => {
    const first = step(undefined, registered(gate('g1', { change: approved() })), sodCtx());
    expect(first.effects.filter((e) => e.kind === 'read-approvers')).toEqual([
      { kind: 'read-approvers', sysId: 'sys-50001', number: NUMBER },
    ]);
    expect(callbacks(first.effects)).toEqual([]);
    // A second gate of the same CR while the read is out does not ask again.
    const second = step(first.state, registered(gate('g2', { change: approved() })), sodCtx());
    expect(second.effects.filter((e) => e.kind === 'read-approvers')).toEqual([]);
    const answered = step(second.state, { kind: 'approvers', approvedBy: [ABEL] }, sodCtx());
    expect(callbacks(answered.effects).map((e) => e.gateId)).toEqual(['g1', 'g2']);
    expect(answered.state.approvedBy).toEqual([ABEL]);
  });

  it('reads who approved at the approval, while the gate still waits for its window', () => {
    const early = approved({ startDate: '2026-11-25 10:30:00' });
    const first = step(undefined, registered(gate('g1', { change: early })), sodCtx());
    expect(first.effects.filter((e) => e.kind === 'read-approvers')).toHaveLength(1);
    expect(callbacks(first.effects)).toEqual([]);
    const answered = step(first.state, { kind: 'approvers', approvedBy: [ABEL] }, sodCtx());
    // Known now: the release at the window start needs no second read.
    const opened = step(
      answered.state,
      { kind: 'tick' },
      sodCtx(Date.parse('2026-11-25T10:30:00Z')),
    );
    expect(opened.effects.filter((e) => e.kind === 'read-approvers')).toEqual([]);
    expect(callbacks(opened.effects).map((e) => e.outcome)).toEqual(['released']);
  });

  it('rejects when the approver is the commit author (matched by e-mail, any case)', () => {
    APPROVERS = [ABEL];
    const { state, effects } = run([
      [registered(gate('g1', { change: approved(), people: { commitAuthor: author } }))],
    ]);
    APPROVERS = [];
    expect(callbacks(effects)).toEqual([
      {
        kind: 'callback',
        gateId: 'g1',
        outcome: 'rejected',
        decision: 'reject',
        reason:
          "separation of duties: abel.tuter approved, and is the deployment's commit author (same e-mail abel@acme.example)",
      },
    ]);
    expect(state.gates.g1?.status).toBe('deciding');
  });

  it('holds instead when the policy says hold, and releases on a new approval by someone else', () => {
    APPROVERS = [ABEL];
    const held = run([
      [
        registered(
          gate('g1', {
            policy: 'hold',
            change: approved(),
            people: { actor: { login: 'abel.tuter' } },
          }),
        ),
      ],
    ]);
    expect(callbacks(held.effects)).toEqual([]);
    expect(held.state.gates.g1).toMatchObject({ status: 'waiting' });
    expect(held.state.gates.g1?.reason).toMatch(
      /trigger actor \(same user name abel.tuter\); held/,
    );
    // Said once (pipeline comment + audit entry), not again on a later tick of the same hold.
    const notices = (effects: Effect[]) => effects.filter((e) => e.kind === 'held');
    expect(notices(held.effects)).toEqual([
      { kind: 'held', gateId: 'g1', reason: held.state.gates.g1!.reason },
    ]);
    expect(notices(run([[{ kind: 'tick' }]], held.state).effects)).toEqual([]);
    // Re-approved by someone else: the approval changes, the approvers are read again.
    APPROVERS = [{ sysId: 'u2', userName: 'beth.anglin' }];
    const again = run(
      [
        [changed(snapshot({ state: STATE.authorize, approval: 'requested' }))],
        [changed(approved())],
      ],
      held.state,
    );
    APPROVERS = [];
    expect(callbacks(again.effects).map((e) => e.outcome)).toEqual(['released']);
  });

  it('matches a CI login mapped to the approver, and refuses changegate’s own user', () => {
    APPROVERS = [ABEL];
    const mapped = run([
      [
        registered(
          gate('g1', {
            policy: 'mapped',
            change: approved(),
            people: { pullRequestAuthor: { login: 'octo-dev' } },
          }),
        ),
      ],
    ]);
    const own = run([[registered(gate('g2', { policy: 'own', change: approved() }))]]);
    APPROVERS = [];
    expect(callbacks(mapped.effects)[0]?.reason).toContain(
      'pull request author (octo-dev is mapped to abel.tuter)',
    );
    expect(callbacks(own.effects)[0]?.reason).toContain("changegate's own ServiceNow user");
  });

  it('is off outside production-like environments unless enabled', () => {
    APPROVERS = [ABEL];
    const { effects } = run([
      [
        registered(
          gate('g1', {
            environment: 'staging',
            change: approved(),
            people: { commitAuthor: author },
          }),
        ),
      ],
    ]);
    APPROVERS = [];
    expect(callbacks(effects).map((e) => e.outcome)).toEqual(['released']);
  });

  it('waits when the approvers cannot be read and separation of duties applies', () => {
    const first = step(undefined, registered(gate('g1', { change: approved() })), sodCtx());
    const failed = step(first.state, { kind: 'approvers', error: 'HTTP 403' }, sodCtx());
    expect(callbacks(failed.effects)).toEqual([]);
    expect(failed.state.gates.g1?.reason).toMatch(/cannot be checked: .*HTTP 403/);
    const staging = step(
      undefined,
      registered(gate('g2', { environment: 'staging', change: approved() })),
      sodCtx(),
    );
    const released = step(staging.state, { kind: 'approvers', error: 'HTTP 403' }, sodCtx());
    expect(callbacks(released.effects).map((e) => e.outcome)).toEqual(['released']);
  });
});
