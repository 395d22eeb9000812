/**
 * Change actions shared by the Change Management API and the sandbox admin surface.
 *
 * @module
 */
import type { SandboxContext } from './context.js';
import type { WriteResult } from './store.js';
import type { SnRecord } from './types.js';

/** A change_request by number (CHG…) or sys_id. */
export function findChange(ctx: SandboxContext, ref: string): SnRecord | undefined {
  return ctx.store.findByNumber('change_request', ref) ?? ctx.store.get('change_request', ref);
}

/**
 * Approve or reject the pending approval of a change: the approver's comment goes to the
 * comments journal, the state follows (approved -> Scheduled, rejected -> New).
 */
export function decideApproval(
  ctx: SandboxContext,
  change: SnRecord,
  decision: 'approved' | 'rejected',
  comment: string | undefined,
  user: string,
): WriteResult {
  const patch: Record<string, string> = { approval: decision };
  if (comment) patch.comments = comment;
  return (
    ctx.store.update('change_request', change.sys_id ?? '', patch, user) ?? {
      ok: false,
      detail: `No Record found: ${change.sys_id ?? ''}`,
    }
  );
}
