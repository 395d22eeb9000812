import { describe, expect, it } from 'vitest';
import {
  STATE,
  allowedNextStates,
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
  it('creates standard changes pre-approved in Scheduled and others New, not requested', () => {
    expect(newChangeDefaults('standard')).toMatchObject({
      state: STATE.SCHEDULED,
      approval: 'approved',
    });
    expect(newChangeDefaults('normal')).toMatchObject({
      state: STATE.NEW,
      approval: 'not requested',
    });
  });

  it('walks a normal change New -> Assess -> Authorize and requests approval on Authorize', () => {
    const assessed = apply(normal(), { state: STATE.ASSESS });
    const authorizing = apply(assessed, { state: STATE.AUTHORIZE });
    expect(authorizing.approval).toBe('requested');
  });

  it('moves an approved change to Scheduled and a rejected one back to New', () => {
    const authorizing = normal({ state: STATE.AUTHORIZE, approval: 'requested' });
    expect(apply(authorizing, { approval: 'approved' })).toMatchObject({
      state: STATE.SCHEDULED,
      approval: 'approved',
    });
    expect(apply(authorizing, { approval: 'rejected' })).toMatchObject({
      state: STATE.NEW,
      approval: 'rejected',
    });
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

  it('rejects an approval when none is pending', () => {
    expect(planChange(normal(), { approval: 'approved' }).ok).toBe(false);
  });

  it('only allows changing the type while New', () => {
    expect(planChange(normal(), { type: 'emergency' }).ok).toBe(true);
    expect(planChange(normal({ state: STATE.ASSESS }), { type: 'emergency' }).ok).toBe(false);
  });
});
