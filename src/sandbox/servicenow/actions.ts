/**
 * Change actions shared by the Change Management API and the sandbox admin surface. A decision
 * is always an update of a `sysapproval_approver` record by its approver; the approval engine
 * (approvals.ts) moves the change.
 *
 * @module
 */
import { pendingApprovals } from './approvals.js';
import type { SandboxContext } from './context.js';
import type { WriteResult } from './store.js';
import type { SnRecord } from './types.js';

/** A change_request by number (CHG…) or sys_id. */
export function findChange(ctx: SandboxContext, ref: string): SnRecord | undefined {
  return ctx.store.findByNumber('change_request', ref) ?? ctx.store.get('change_request', ref);
}

/** user_name of a sys_user sys_id ('' when unknown). */
export function userNameOf(ctx: SandboxContext, sysId: string): string {
  return ctx.store.get('sys_user', sysId)?.user_name ?? '';
}

export type DecisionResult =
  { ok: true; change: SnRecord; approval: SnRecord } | { ok: false; detail: string };

/**
 * Decide the pending approval record of `approverUserName` on `change`: state approved or
 * rejected, the comment into the record's comments journal, written as that approver.
 */
export function decideAs(
  ctx: SandboxContext,
  change: SnRecord,
  approverUserName: string,
  decision: 'approved' | 'rejected',
  comment: string | undefined,
): DecisionResult {
  const approverId = ctx.store.userId(approverUserName);
  const mine = pendingApprovals(ctx.store, change.sys_id ?? '').find(
    (a) => approverId !== '' && a.approver === approverId,
  );
  if (!mine) {
    return {
      ok: false,
      detail: `User ${approverUserName} has no pending approval on ${change.number ?? change.sys_id ?? ''}`,
    };
  }
  const patch: Record<string, string> = { state: decision };
  if (comment) patch.comments = comment;
  const result: WriteResult | undefined = ctx.store.update(
    'sysapproval_approver',
    mine.sys_id ?? '',
    patch,
    approverUserName,
  );
  if (!result) return { ok: false, detail: `No Record found: ${mine.sys_id ?? ''}` };
  if (!result.ok) return { ok: false, detail: result.detail };
  const after = ctx.store.get('change_request', change.sys_id ?? '');
  return { ok: true, change: after ?? change, approval: result.record };
}
