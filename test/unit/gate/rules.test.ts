import { describe, expect, it } from 'vitest';
import {
  GatePolicySchema,
  type Blackout,
  type GatePolicy,
  type Rule,
} from '../../../src/config/changes.js';
import type { ChangeSnapshot } from '../../../src/events/gate.js';
import { STATE, activeBlackout, evaluate, holds } from '../../../src/gate/rules.js';

const NOW = new Date('2026-11-25T10:00:00Z'); // a Wednesday

function change(overrides: Partial<ChangeSnapshot> = {}): ChangeSnapshot {
  return {
    sysId: 'a1b2c3',
    number: 'CHG0040001',
    state: STATE.implement,
    approval: 'approved',
    startDate: '2026-11-25 09:00:00',
    endDate: '2026-11-25 11:00:00',
    fields: { risk: '3', u_score: '10', category: 'Software' },
    ...overrides,
  };
}

const policy = (input: Partial<GatePolicy> = {}): GatePolicy => GatePolicySchema.parse(input);
const rule = (field: string, op: Rule['op'], value: Rule['value']): Rule => ({ field, op, value });

describe('holds', () => {
  it.each([
    ['==', 'risk', '3', true],
    ['==', 'risk', 3, true],
    ['==', 'risk', '4', false],
    ['!=', 'risk', '4', true],
    ['!=', 'risk', 3, false],
    ['<', 'u_score', 9, false],
    ['<', 'u_score', 11, true],
    ['<=', 'u_score', 10, true],
    ['<=', 'u_score', 9, false],
    ['>', 'u_score', 9, true],
    ['>', 'u_score', 10, false],
    ['>=', 'u_score', 10, true],
    ['>=', 'u_score', 11, false],
    ['in', 'risk', ['2', 3], true],
    ['in', 'risk', ['1', '2'], false],
    ['not in', 'risk', ['1', '2'], true],
    ['not in', 'risk', [3], false],
    ['matches', 'category', '^Soft', true],
    ['matches', 'category', '^Hard', false],
  ] as const)('%s: %s against %j is %s', (op, field, value, expected) => {
    const v = (Array.isArray(value) ? [...value] : value) as Rule['value'];
    expect(holds(rule(field, op, v), change())).toBe(expected);
  });

  it('compares numbers as numbers when both sides are numeric', () => {
    // As strings "10" < "9"; as numbers it is the other way round.
    expect(holds(rule('u_score', '>', '9'), change())).toBe(true);
    expect(holds(rule('u_score', '==', '10.0'), change())).toBe(true);
    expect(holds(rule('state', '<', 0), change({ state: '-1' }))).toBe(true);
  });

  it('compares as strings when either side is not numeric', () => {
    expect(holds(rule('category', '<', 'Zeta'), change())).toBe(true);
    expect(holds(rule('category', '>', 'Zeta'), change())).toBe(false);
    // "10" vs "9x": not both numeric, so lexical: "1" < "9".
    expect(holds(rule('u_score', '<', '9x'), change())).toBe(true);
  });

  it('reads named snapshot fields before free-form ones', () => {
    const c = change({ fields: { state: '3', approval: 'rejected' } });
    expect(holds(rule('state', '==', '-1'), c)).toBe(true);
    expect(holds(rule('approval', '==', 'approved'), c)).toBe(true);
    expect(holds(rule('start_date', 'matches', '^2026-11-25'), c)).toBe(true);
    expect(holds(rule('number', '==', 'CHG0040001'), c)).toBe(true);
  });

  it('treats a missing field as failing every positive comparison', () => {
    for (const op of ['==', '<', '<=', '>', '>=', 'matches'] as const) {
      expect(holds(rule('u_missing', op, op === 'matches' ? '.*' : '1'), change())).toBe(false);
    }
    expect(holds(rule('u_missing', 'in', ['1']), change())).toBe(false);
    expect(holds(rule('u_missing', '!=', '1'), change())).toBe(true);
    expect(holds(rule('u_missing', 'not in', ['1']), change())).toBe(true);
  });

  it('refuses operators whose value has the wrong shape', () => {
    expect(holds(rule('risk', 'in', '3'), change())).toBe(false);
    expect(holds(rule('risk', '==', ['3']), change())).toBe(false);
    expect(holds(rule('risk', '<', true), change())).toBe(false);
    expect(holds(rule('risk', 'matches', 3), change())).toBe(false);
  });

  it('matches booleans by their string form', () => {
    const c = change({ fields: { u_cab_ok: 'true' } });
    expect(holds(rule('u_cab_ok', '==', true), c)).toBe(true);
    expect(holds(rule('u_cab_ok', '==', false), c)).toBe(false);
  });
});

describe('activeBlackout', () => {
  const freeze: Blackout = {
    name: 'year-end freeze',
    start: '2026-12-20T00:00:00Z',
    end: '2027-01-05T00:00:00Z',
  };

  it('covers an absolute range from its start up to (not including) its end', () => {
    expect(activeBlackout([freeze], new Date('2026-12-19T23:59:59Z'))).toBeUndefined();
    expect(activeBlackout([freeze], new Date('2026-12-20T00:00:00Z'))).toEqual({
      name: 'year-end freeze',
      until: new Date('2027-01-05T00:00:00Z'),
    });
    expect(activeBlackout([freeze], new Date('2027-01-04T12:00:00Z'))?.name).toBe(
      'year-end freeze',
    );
    expect(activeBlackout([freeze], new Date('2027-01-05T00:00:00Z'))).toBeUndefined();
  });

  it('honours the offset of an absolute range', () => {
    const local: Blackout = {
      name: 'release night',
      start: '2026-11-25T12:00:00+02:00',
      end: '2026-11-25T14:00:00+02:00',
    };
    expect(activeBlackout([local], new Date('2026-11-25T09:59:00Z'))).toBeUndefined();
    expect(activeBlackout([local], new Date('2026-11-25T10:30:00Z'))?.until).toEqual(
      new Date('2026-11-25T12:00:00Z'),
    );
  });

  it('covers a weekly window on its days only, in UTC, ending at its to-time', () => {
    const weekly: Blackout = {
      name: 'wednesday maintenance',
      weekly: { days: ['wed'], from: '09:30', to: '11:15' },
    };
    expect(activeBlackout([weekly], new Date('2026-11-25T09:29:59Z'))).toBeUndefined();
    expect(activeBlackout([weekly], new Date('2026-11-25T09:30:00Z'))).toEqual({
      name: 'wednesday maintenance',
      until: new Date('2026-11-25T11:15:00Z'),
    });
    expect(activeBlackout([weekly], new Date('2026-11-25T11:15:00Z'))).toBeUndefined();
    // Same time on a Thursday.
    expect(activeBlackout([weekly], new Date('2026-11-26T10:00:00Z'))).toBeUndefined();
  });

  it('ends a whole-day weekly blackout at the next midnight', () => {
    const weekend: Blackout = {
      name: 'weekend',
      weekly: { days: ['sat', 'sun'], from: '00:00', to: '24:00' },
    };
    expect(activeBlackout([weekend], new Date('2026-11-28T15:00:00Z'))?.until).toEqual(
      new Date('2026-11-29T00:00:00Z'),
    );
    expect(activeBlackout([weekend], new Date('2026-11-27T23:59:59Z'))).toBeUndefined();
  });

  it('covers an overnight weekly window from its start day into the next morning', () => {
    const overnight: Blackout = {
      name: 'friday night',
      weekly: { days: ['fri'], from: '22:00', to: '06:00' },
    };
    // Friday 2026-11-27.
    expect(activeBlackout([overnight], new Date('2026-11-27T21:59:00Z'))).toBeUndefined();
    expect(activeBlackout([overnight], new Date('2026-11-27T23:00:00Z'))).toEqual({
      name: 'friday night',
      until: new Date('2026-11-28T06:00:00Z'),
    });
    expect(activeBlackout([overnight], new Date('2026-11-28T05:59:00Z'))).toEqual({
      name: 'friday night',
      until: new Date('2026-11-28T06:00:00Z'),
    });
    expect(activeBlackout([overnight], new Date('2026-11-28T06:00:00Z'))).toBeUndefined();
    // Thursday night is not covered, nor Friday early morning (that is Thursday's night).
    expect(activeBlackout([overnight], new Date('2026-11-26T23:00:00Z'))).toBeUndefined();
    expect(activeBlackout([overnight], new Date('2026-11-27T03:00:00Z'))).toBeUndefined();
  });

  it('returns the first blackout that covers now', () => {
    const weekly: Blackout = {
      name: 'all wednesday',
      weekly: { days: ['wed'], from: '00:00', to: '24:00' },
    };
    expect(activeBlackout([{ ...freeze }, weekly], NOW)?.name).toBe('all wednesday');
    expect(activeBlackout([], NOW)).toBeUndefined();
  });
});

describe('evaluate', () => {
  it('waits while the change request has not been read', () => {
    expect(evaluate(policy(), undefined, NOW)).toMatchObject({ verdict: 'wait' });
  });

  it('releases an approved change in Implement inside its window', () => {
    expect(evaluate(policy(), change(), NOW)).toMatchObject({ verdict: 'release' });
  });

  it('rejects a rejected approval, a canceled and a closed change whatever else holds', () => {
    expect(evaluate(policy(), change({ approval: 'rejected', state: STATE.new }), NOW)).toEqual({
      verdict: 'reject',
      reason: 'CHG0040001 was rejected',
    });
    expect(evaluate(policy(), change({ state: STATE.canceled }), NOW)).toEqual({
      verdict: 'reject',
      reason: 'CHG0040001 was canceled',
    });
    expect(evaluate(policy(), change({ state: STATE.closed }), NOW)).toEqual({
      verdict: 'reject',
      reason: 'CHG0040001 is already closed',
    });
  });

  it('rejects when a reject rule holds, even before approval', () => {
    const p = policy({ rejectRules: [rule('risk', '<=', 1)] });
    expect(evaluate(p, change({ approval: 'requested', fields: { risk: '1' } }), NOW)).toEqual({
      verdict: 'reject',
      reason: 'reject rule holds: risk <= 1',
    });
    expect(evaluate(p, change(), NOW)).toMatchObject({ verdict: 'release' });
  });

  it('waits for approval without a timer', () => {
    const v = evaluate(policy(), change({ approval: 'requested', state: STATE.authorize }), NOW);
    expect(v).toEqual({ verdict: 'wait', reason: "awaiting approval (approval is 'requested')" });
  });

  it('waits while a release rule is unmet and releases once it holds', () => {
    const p = policy({ rules: [rule('u_cab_ok', '==', 'true')] });
    expect(evaluate(p, change(), NOW)).toEqual({
      verdict: 'wait',
      reason: 'rule not met: u_cab_ok == "true"',
    });
    expect(evaluate(p, change({ fields: { u_cab_ok: 'true' } }), NOW)).toMatchObject({
      verdict: 'release',
    });
  });

  it('waits until the planned window opens, with a timer at its start', () => {
    const v = evaluate(policy(), change({ startDate: '2026-11-25 12:00:00' }), NOW);
    expect(v).toEqual({
      verdict: 'wait',
      reason: 'planned window opens at 2026-11-25T12:00:00.000Z',
      until: new Date('2026-11-25T12:00:00Z'),
    });
  });

  it('waits without a timer once the planned window has ended', () => {
    const v = evaluate(policy(), change({ endDate: '2026-11-25 10:00:00' }), NOW);
    expect(v.verdict).toBe('wait');
    expect(v.reason).toBe('planned window ended at 2026-11-25T10:00:00.000Z');
    expect('until' in v).toBe(false);
  });

  it('ignores the planned window when the policy does not require it', () => {
    const p = policy({ requireWindow: false });
    expect(evaluate(p, change({ startDate: '2026-11-26 00:00:00' }), NOW)).toMatchObject({
      verdict: 'release',
    });
    expect(evaluate(p, change({ endDate: '2026-11-24 00:00:00' }), NOW)).toMatchObject({
      verdict: 'release',
    });
  });

  it('releases a change that has no planned window', () => {
    const c = change();
    delete c.startDate;
    delete c.endDate;
    expect(evaluate(policy(), c, NOW)).toMatchObject({ verdict: 'release' });
  });

  it('waits out a blackout with a timer at its end', () => {
    const p = policy({
      blackouts: [{ name: 'freeze', start: '2026-11-25T09:00:00Z', end: '2026-11-25T10:30:00Z' }],
    });
    expect(evaluate(p, change(), NOW)).toEqual({
      verdict: 'wait',
      reason: "blackout 'freeze' until 2026-11-25T10:30:00.000Z",
      until: new Date('2026-11-25T10:30:00Z'),
    });
    expect(evaluate(p, change(), new Date('2026-11-25T10:30:00Z'))).toMatchObject({
      verdict: 'release',
    });
  });

  it('asks to advance an approved Scheduled change inside its window to Implement', () => {
    expect(evaluate(policy(), change({ state: STATE.scheduled }), NOW)).toEqual({
      verdict: 'wait',
      reason: 'approved and in window: moving to Implement',
      advance: true,
    });
  });

  it('does not advance when the policy says not to, or when Implement is not required', () => {
    const scheduled = change({ state: STATE.scheduled });
    expect(evaluate(policy({ advanceToImplement: false }), scheduled, NOW)).toEqual({
      verdict: 'wait',
      reason: 'state is -2, needs -1',
    });
    expect(evaluate(policy({ requiredStates: ['0'] }), scheduled, NOW)).toEqual({
      verdict: 'wait',
      reason: 'state is -2, needs 0',
    });
    expect(evaluate(policy({ requiredStates: ['-2', '-1'] }), scheduled, NOW)).toMatchObject({
      verdict: 'release',
    });
  });

  it('does not advance before the window opens or during a blackout', () => {
    const early = change({ state: STATE.scheduled, startDate: '2026-11-25 12:00:00' });
    expect(evaluate(policy(), early, NOW)).toMatchObject({
      verdict: 'wait',
      until: new Date('2026-11-25T12:00:00Z'),
    });
    const p = policy({
      blackouts: [{ name: 'all day', weekly: { days: ['wed'], from: '00:00', to: '24:00' } }],
    });
    expect(evaluate(p, change({ state: STATE.scheduled }), NOW)).not.toHaveProperty('advance');
  });
});
