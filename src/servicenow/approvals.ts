/**
 * Who approved a change request. ServiceNow keeps each approval as a `sysapproval_approver`
 * record (`sysapproval` → the task, `approver` → sys_user, `state` requested|approved|rejected|
 * cancelled|not_required); the change_request itself only says `approval=approved`.
 * (ServiceNowDocs: it-service-management/change-management approvals; Table API for the reads.)
 *
 * @module
 */
import type { Approver } from '../events/gate.js';
import type { TableApi } from './table.js';

const SYS_ID = /^[0-9a-f]{32}$/;

/**
 * The approved approval records of one task, oldest first, with the approvers' user names.
 * Two reads (approvals, then their users), made once when a gate releases, never on a timer.
 * A user the integration may not read (sys_user ACL) is reported by sys_id only.
 */
export async function approversOf(
  table: TableApi,
  taskSysId: string,
  options?: { signal?: AbortSignal },
): Promise<Approver[]> {
  if (!SYS_ID.test(taskSysId)) return [];
  const approvals = await table.query('sysapproval_approver', {
    query: `sysapproval=${taskSysId}^state=approved^ORDERBYsys_updated_on`,
    fields: ['sys_id', 'approver', 'state', 'sys_updated_on'],
    limit: 50,
    signal: options?.signal,
  });
  const ids = [...new Set(approvals.map((a) => a.approver ?? '').filter((id) => SYS_ID.test(id)))];
  if (ids.length === 0) return [];
  const users = await table.query('sys_user', {
    query: `sys_idIN${ids.join(',')}`,
    fields: ['sys_id', 'user_name', 'name', 'email'],
    limit: ids.length,
    signal: options?.signal,
  });
  const byId = new Map(users.map((u) => [u.sys_id ?? '', u]));
  const seen = new Set<string>();
  const out: Approver[] = [];
  for (const a of approvals) {
    const id = a.approver ?? '';
    if (!SYS_ID.test(id) || seen.has(id)) continue;
    seen.add(id);
    const u = byId.get(id);
    out.push({
      sysId: id,
      ...(u?.user_name ? { userName: u.user_name } : {}),
      ...(u?.name ? { name: u.name } : {}),
      ...(u?.email ? { email: u.email } : {}),
      ...(a.sys_updated_on ? { approvedAt: a.sys_updated_on } : {}),
    });
  }
  return out;
}
