import { describe, expect, it } from 'vitest';
import { GatePolicySchema } from '../../../src/config/changes.js';
import type { ChangeSnapshot } from '../../../src/events/gate.js';
import { evaluate } from '../../../src/gate/rules.js';
import { gateLabel, waitingFor } from '../../../src/web/waiting-for.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const change = (over: Partial<ChangeSnapshot> = {}): ChangeSnapshot => ({
  sysId: 'a1',
  number: 'CHG0000001',
  state: '-2',
  approval: 'approved',
  fields: {},
  ...over,
});

/** The reason the real gate rules give; the page labels it from that text. */
function reasonOf(policy: object, snapshot: ChangeSnapshot | undefined): string {
  const verdict = evaluate(GatePolicySchema.parse(policy), snapshot, NOW);
  expect(verdict.verdict).toBe('wait');
  return verdict.reason;
}

describe('waitingFor, fed by the gate rules', () => {
  it('labels a CR that is not approved yet as waiting for approval', () => {
    const reason = reasonOf({}, change({ approval: 'requested', state: '-3' }));
    expect(waitingFor(reason)).toBe('approval');
    expect(gateLabel('waiting', waitingFor(reason))).toBe('awaiting approval');
  });

  it('labels a planned window that has not opened, and a blackout, as waiting for the window', () => {
    const early = reasonOf({}, change({ startDate: '2026-11-25 13:00:00' }));
    expect(waitingFor(early)).toBe('window');
    const blackout = reasonOf(
      {
        blackouts: [{ name: 'freeze', start: '2026-11-25T00:00:00Z', end: '2026-11-26T00:00:00Z' }],
      },
      change(),
    );
    expect(waitingFor(blackout)).toBe('window');
  });

  it('labels an unmet configured rule as waiting for a rule', () => {
    const reason = reasonOf({ rules: [{ field: 'u_cab_ok', op: '==', value: 'true' }] }, change());
    expect(waitingFor(reason)).toBe('rule');
  });

  it('labels a CR outside the required state as waiting for Implement', () => {
    expect(waitingFor(reasonOf({ advanceToImplement: false }, change()))).toBe('state');
    expect(waitingFor(reasonOf({}, change()))).toBe('state'); // moving it to Implement
  });

  it('labels a gate whose CR was not read yet as reading the change', () => {
    expect(waitingFor(reasonOf({}, undefined))).toBe('change');
    expect(gateLabel('waiting', 'change')).toBe('reading the change');
  });

  it('shows decided gates by their outcome', () => {
    expect(gateLabel('released')).toBe('released');
    expect(gateLabel('deciding')).toBe('deciding');
    expect(waitingFor('something new')).toBe('other');
  });
});
