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
 * One read (the approver's sys_user fields dot-walked), made once per approval, never on a
 * timer; a second read of `sys_user` only for approvers the dot-walk left without a name.
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
    fields: [
      'sys_id',
      'approver',
      'state',
      'sys_updated_on',
      'approver.user_name',
      'approver.name',
      'approver.email',
    ],
    limit: 50,
    signal: options?.signal,
  });
  const users = new Map<string, Record<string, string | undefined>>();
  for (const a of approvals) {
    const id = a.approver ?? '';
    if (SYS_ID.test(id) && a['approver.user_name'])
      users.set(id, {
        user_name: a['approver.user_name'],
        name: a['approver.name'],
        email: a['approver.email'],
      });
  }
  const missing = [
    ...new Set(approvals.map((a) => a.approver ?? '').filter((id) => SYS_ID.test(id))),
  ].filter((id) => !users.has(id));
  if (missing.length > 0) {
    const rows = await table.query('sys_user', {
      query: `sys_idIN${missing.join(',')}`,
      fields: ['sys_id', 'user_name', 'name', 'email'],
      limit: missing.length,
      signal: options?.signal,
    });
    for (const u of rows) if (u.sys_id) users.set(u.sys_id, u);
  }
  const seen = new Set<string>();
  const out: Approver[] = [];
  for (const a of approvals) {
    const id = a.approver ?? '';
    if (!SYS_ID.test(id) || seen.has(id)) continue;
    seen.add(id);
    const u = users.get(id);
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
