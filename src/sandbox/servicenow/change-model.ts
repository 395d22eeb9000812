/**
 * The type-driven change_request state model, as a pure function of (record, patch).
 *
 * States and labels come from ServiceNow's "State model and transitions" page (New -5, Assess -4,
 * Authorize -3, Scheduled -2, Implement -1, Review 0, Closed 3, Canceled 4). Normal changes walk
 * every state; emergency changes skip Assess; standard changes are pre-authorized and start in
 * Scheduled. Cancel is allowed from any open state except Review; normal and emergency changes
 * can be reverted to New from Assess/Authorize. A rejected approval sends the change back to New.
 *
 * Simplification (say so in tests): one approval step in Authorize instead of the Assess
 * (technical) + Authorize (CAB) pair a real normal change has.
 *
 * @module
 */

export type ChangeType = 'normal' | 'standard' | 'emergency';
export type Fields = Record<string, string>;

export const STATE = {
  NEW: '-5',
  ASSESS: '-4',
  AUTHORIZE: '-3',
  SCHEDULED: '-2',
  IMPLEMENT: '-1',
  REVIEW: '0',
  CLOSED: '3',
  CANCELED: '4',
} as const;

export const STATE_LABELS: Readonly<Record<string, string>> = {
  '-5': 'New',
  '-4': 'Assess',
  '-3': 'Authorize',
  '-2': 'Scheduled',
  '-1': 'Implement',
  '0': 'Review',
  '3': 'Closed',
  '4': 'Canceled',
};

export const APPROVAL_LABELS: Readonly<Record<string, string>> = {
  'not requested': 'Not Yet Requested',
  requested: 'Requested',
  approved: 'Approved',
  rejected: 'Rejected',
};

export const CLOSE_CODES: Readonly<Record<string, string>> = {
  successful: 'Successful',
  successful_issues: 'Successful with issues',
  unsuccessful: 'Unsuccessful',
};

const { NEW, ASSESS, AUTHORIZE, SCHEDULED, IMPLEMENT, REVIEW, CLOSED, CANCELED } = STATE;

// Moves a client may request by writing `state`. Authorize -> Scheduled is deliberately absent:
// only an approval moves a change out of Authorize.
const TRANSITIONS: Readonly<Record<ChangeType, Readonly<Record<string, readonly string[]>>>> = {
  normal: {
    [NEW]: [ASSESS, CANCELED],
    [ASSESS]: [AUTHORIZE, NEW, CANCELED],
    [AUTHORIZE]: [NEW, CANCELED],
    [SCHEDULED]: [IMPLEMENT, CANCELED],
    [IMPLEMENT]: [REVIEW, CANCELED],
    [REVIEW]: [CLOSED],
  },
  emergency: {
    [NEW]: [AUTHORIZE, CANCELED],
    [AUTHORIZE]: [NEW, CANCELED],
    [SCHEDULED]: [IMPLEMENT, CANCELED],
    [IMPLEMENT]: [REVIEW, CANCELED],
    [REVIEW]: [CLOSED],
  },
  standard: {
    [NEW]: [SCHEDULED, CANCELED],
    [SCHEDULED]: [IMPLEMENT, CANCELED],
    [IMPLEMENT]: [REVIEW, CANCELED],
    [REVIEW]: [CLOSED],
  },
};

/** Parse the `type` field; anything unknown is treated as normal, the platform default. */
export function changeTypeOf(value: string | undefined): ChangeType {
  return value === 'standard' || value === 'emergency' ? value : 'normal';
}

/** States a change of `type` may be moved to from `from` by writing `state` (not by approval). */
export function allowedNextStates(type: ChangeType, from: string): string[] {
  return [...(TRANSITIONS[type][from] ?? [])];
}

export type ChangePlan = { ok: true; fields: Fields } | { ok: false; detail: string };

function label(state: string): string {
  return STATE_LABELS[state] ?? state;
}

/** Defaults a new change gets before the client's fields are applied. */
export function newChangeDefaults(type: ChangeType): Fields {
  const pre = type === 'standard';
  return {
    type,
    state: pre ? SCHEDULED : NEW,
    approval: pre ? 'approved' : 'not requested',
    phase: 'requested',
    risk: '3',
    impact: '3',
    priority: '4',
    active: 'true',
    start_date: '',
    end_date: '',
    close_code: '',
    close_notes: '',
    correlation_id: '',
    correlation_display: '',
    chg_model: '',
  };
}

/**
 * Plan the effect of `patch` on `current`: validate the state transition, apply approval side
 * effects (Authorize -> requested; approved -> Scheduled; rejected -> New), enforce close data.
 * Returns the full field set to store, or the business-rule abort detail.
 */
export function planChange(current: Fields, patch: Fields, label_ = 'change_request'): ChangePlan {
  const type = changeTypeOf(patch.type ?? current.type);
  const next: Fields = { ...current, ...patch, type };
  const from = current.state ?? NEW;
  const to = next.state ?? NEW;
  const ref = `${label_} ${current.number ?? ''}`.trim();

  if (patch.type !== undefined && patch.type !== current.type && from !== NEW) {
    return { ok: false, detail: `Change type can only be modified in the New state (${ref})` };
  }
  if (from === CLOSED || from === CANCELED) {
    if (patch.state !== undefined && to !== from) {
      return {
        ok: false,
        detail: `Invalid state transition: ${ref} is ${label(from)} and can no longer change state`,
      };
    }
  } else if (to !== from && !allowedNextStates(type, from).includes(to)) {
    return {
      ok: false,
      detail: `Invalid state transition from ${label(from)} to ${label(to)} for a ${type} change (${ref}). Allowed: ${
        allowedNextStates(type, from).map(label).join(', ') || 'none'
      }`,
    };
  }

  // Approval side effects, in the order a workflow would run them.
  if (to === AUTHORIZE && from !== AUTHORIZE) next.approval = 'requested';
  if (to === NEW && from !== NEW && next.approval === 'requested') next.approval = 'not requested';
  if (patch.approval !== undefined && patch.approval !== current.approval) {
    if (next.state !== AUTHORIZE || current.approval !== 'requested') {
      return { ok: false, detail: `No approval is pending on ${ref} (state ${label(to)})` };
    }
    if (patch.approval === 'approved') next.state = SCHEDULED;
    else if (patch.approval === 'rejected') next.state = NEW;
    else return { ok: false, detail: `Invalid approval value: ${patch.approval}` };
  }

  if (next.state === CLOSED && from !== CLOSED) {
    if (!(next.close_code ?? '') || !CLOSE_CODES[next.close_code ?? '']) {
      return {
        ok: false,
        detail: `The following mandatory fields are not filled in: Close code (successful, successful_issues or unsuccessful) (${ref})`,
      };
    }
    if (!(next.close_notes ?? '').trim()) {
      return {
        ok: false,
        detail: `The following mandatory fields are not filled in: Close notes (${ref})`,
      };
    }
  }
  if (next.state === CLOSED || next.state === CANCELED) next.active = 'false';
  return { ok: true, fields: next };
}
