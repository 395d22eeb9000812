import { describe, expect, it } from 'vitest';
import {
  STATE,
  allowedNextStates,
  approvalStage,
  newChangeDefaults,
  planChange,
  type Fields,
} from '../../../../src/sandbox/servicenow/change-model.js';

const normal = (over: Fields = {}): Fields => ({
  ...newChangeDefaults('normal'),
  number: 'CHG0010001',
  ...over,
});

function apply(current: Fields, patch: Fields): Fields {
  const plan = planChange(current, patch);
  if (!plan.ok) throw new Error(plan.detail);
  return plan.fields;
}

describe('change state model', () => {
  it('creates every change in New: standard ones pre-approved, others not requested', () => {
    expect(newChangeDefaults('standard')).toMatchObject({
      state: STATE.NEW,
      approval: 'approved',
    });
    expect(allowedNextStates('standard', STATE.NEW)).toEqual([STATE.SCHEDULED, STATE.CANCELED]);
    expect(newChangeDefaults('normal')).toMatchObject({
      state: STATE.NEW,
      approval: 'not requested',
    });
  });

  it('requests technical approval at Assess and CAB approval at Authorize', () => {
    const assessed = apply(normal(), { state: STATE.ASSESS });
    expect(assessed.approval).toBe('requested');
    expect(approvalStage('normal', STATE.ASSESS)).toBe('technical');
    expect(approvalStage('normal', STATE.AUTHORIZE)).toBe('cab');
    expect(approvalStage('emergency', STATE.AUTHORIZE)).toBe('cab');
    expect(approvalStage('standard', STATE.SCHEDULED)).toBeUndefined();
  });

  it('leaves Assess and Authorize only through the approval engine (system writes)', () => {
    const assessing = normal({ state: STATE.ASSESS, approval: 'requested' });
    const byClient = planChange(assessing, { state: STATE.AUTHORIZE });
    expect(byClient).toMatchObject({ ok: false });
    expect(byClient.ok ? '' : byClient.detail).toContain('technical approvals are approved');
    const bySystem = planChange(assessing, { state: STATE.AUTHORIZE }, { system: true });
    expect(bySystem).toMatchObject({ ok: true, fields: { approval: 'requested' } });
    const authorizing = normal({ state: STATE.AUTHORIZE, approval: 'requested' });
    expect(
      planChange(authorizing, { state: STATE.SCHEDULED, approval: 'approved' }, { system: true }),
    ).toMatchObject({ ok: true, fields: { state: STATE.SCHEDULED, approval: 'approved' } });
    expect(
      planChange(authorizing, { state: STATE.NEW, approval: 'rejected' }, { system: true }),
    ).toMatchObject({ ok: true, fields: { state: STATE.NEW, approval: 'rejected' } });
  });

  it('refuses to leave Authorize by writing state instead of approving', () => {
    const plan = planChange(normal({ state: STATE.AUTHORIZE, approval: 'requested' }), {
      state: STATE.SCHEDULED,
    });
    expect(plan).toMatchObject({ ok: false });
    expect(plan.ok ? '' : plan.detail).toContain(
      'Invalid state transition from Authorize to Scheduled',
    );
  });

  it('refuses to jump a normal change from New to Implement', () => {
    expect(planChange(normal(), { state: STATE.IMPLEMENT }).ok).toBe(false);
  });

  it('lets emergency changes skip Assess', () => {
    expect(allowedNextStates('emergency', STATE.NEW)).toContain(STATE.AUTHORIZE);
    expect(allowedNextStates('normal', STATE.NEW)).not.toContain(STATE.AUTHORIZE);
  });

  it('requires a valid close_code and close_notes to close', () => {
    const review = normal({ state: STATE.REVIEW, approval: 'approved' });
    expect(planChange(review, { state: STATE.CLOSED }).ok).toBe(false);
    expect(
      planChange(review, { state: STATE.CLOSED, close_code: 'great', close_notes: 'x' }).ok,
    ).toBe(false);
    expect(planChange(review, { state: STATE.CLOSED, close_code: 'successful' }).ok).toBe(false);
    expect(
      apply(review, { state: STATE.CLOSED, close_code: 'successful', close_notes: 'done' }),
    ).toMatchObject({
      state: STATE.CLOSED,
      active: 'false',
    });
  });

  it('allows cancel from open states but not from Review or Closed', () => {
    expect(planChange(normal({ state: STATE.IMPLEMENT }), { state: STATE.CANCELED }).ok).toBe(true);
    expect(planChange(normal({ state: STATE.REVIEW }), { state: STATE.CANCELED }).ok).toBe(false);
    expect(planChange(normal({ state: STATE.CLOSED }), { state: STATE.CANCELED }).ok).toBe(false);
  });

  it('does not move a change for an approval value alone', () => {
    expect(planChange(normal(), { approval: 'approved' })).toMatchObject({
      ok: true,
      fields: { state: STATE.NEW },
    });
  });

  it('only allows changing the type while New', () => {
    expect(planChange(normal(), { type: 'emergency' }).ok).toBe(true);
    expect(planChange(normal({ state: STATE.ASSESS }), { type: 'emergency' }).ok).toBe(false);
  });
});
