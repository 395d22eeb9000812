/**
 * The type-driven change_request state model, as pure functions of (record, patch).
 *
 * States and labels come from ServiceNow's "State model and transitions" page (New -5, Assess -4,
 * Authorize -3, Scheduled -2, Implement -1, Review 0, Closed 3, Canceled 4). Change models
 * (`chg_model`, Change Management API "GET /sn_chg_rest/change/model") define transition
 * criteria a change must meet before it moves on. Here:
 * - normal: New -> Assess (technical approval requested); Assess -> Authorize only once the
 *   technical approvals are approved (automatic, by the approval engine); Authorize (CAB
 *   approval) -> Scheduled only once approved (automatic); a rejection sends it back to New.
 * - emergency: New -> Authorize (emergency CAB approval) -> Scheduled (automatic).
 * - standard: pre-approved by its template (approval `approved`), created in New and moved to
 *   Scheduled by the client (change-management-api.md: the standard change created from template
 *   1c87925347c12200e0ef563dbb9a7177 answers `state -5 New` in the PATCH
 *   …/change/standard/{sys_id} example; "Change model states: New, Scheduled, Implement, Review,
 *   and Closed").
 * Cancel is allowed from any open state except Review. A client writing `state` can only make
 * the manual moves; `system` writes (the approval engine) may make the automatic ones.
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

// Moves a client may request by writing `state`. Assess -> Authorize and Authorize -> Scheduled
// are absent: only approvals move a change on (AUTOMATIC below).
const TRANSITIONS: Readonly<Record<ChangeType, Readonly<Record<string, readonly string[]>>>> = {
  normal: {
    [NEW]: [ASSESS, CANCELED],
    [ASSESS]: [NEW, CANCELED],
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

/** Moves the approval engine makes when a stage's approvals are all approved. */
export const AUTOMATIC: Readonly<Record<ChangeType, Readonly<Record<string, string>>>> = {
  normal: { [ASSESS]: AUTHORIZE, [AUTHORIZE]: SCHEDULED },
  emergency: { [AUTHORIZE]: SCHEDULED },
  standard: {},
};

/** Approval stage a change waits on in a state: technical at Assess, CAB at Authorize. */
export type ApprovalStage = 'technical' | 'cab';

export function approvalStage(type: ChangeType, state: string): ApprovalStage | undefined {
  if (type === 'normal' && state === ASSESS) return 'technical';
  if ((type === 'normal' || type === 'emergency') && state === AUTHORIZE) return 'cab';
  return undefined;
}

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
  return { type, state: NEW, approval: type === 'standard' ? 'approved' : 'not requested' };
}

/**
 * Plan the effect of `patch` on `current`: validate the state transition, set the approval
 * field the way the approval engine does (requested when a stage starts, not requested when a
 * change goes back to New), enforce close data. `system` writes (the approval engine) may make
 * the automatic moves and set `approval`; a client's `approval` is dropped before this runs.
 * Returns the full field set to store, or the business-rule abort detail.
 */
export function planChange(
  current: Fields,
  patch: Fields,
  opts: { system?: boolean; label?: string } = {},
): ChangePlan {
  const type = changeTypeOf(patch.type ?? current.type);
  const next: Fields = { ...current, ...patch, type };
  const from = current.state ?? NEW;
  const to = next.state ?? NEW;
  const ref = `${opts.label ?? 'change_request'} ${current.number ?? ''}`.trim();

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
  } else if (to !== from) {
    const manual = allowedNextStates(type, from).includes(to);
    const automatic = opts.system === true && AUTOMATIC[type][from] === to;
    if (!manual && !automatic) {
      const pending = approvalStage(type, from);
      return {
        ok: false,
        detail: `Invalid state transition from ${label(from)} to ${label(to)} for a ${type} change (${ref}). Allowed: ${
          allowedNextStates(type, from).map(label).join(', ') || 'none'
        }${pending ? `; ${label(from)} moves on once its ${pending} approvals are approved` : ''}`,
      };
    }
  }

  if (to !== from) {
    if (approvalStage(type, to)) next.approval = 'requested';
    else if (to === NEW && patch.approval === undefined) next.approval = 'not requested';
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
