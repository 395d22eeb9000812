/**
 * `changegate doctor`, part two: the features of the instance changegate relies on, each
 * reported as present (PASS), missing (FAIL, with the install-kit step that adds it) or not
 * checkable with the integration user's rights (WARN, with what to check by hand).
 *
 * What is checked and why (deploy/servicenow/README.md has the matching install steps):
 * - `sysapproval_approver` readable: who approved a CR (gate.released carries it).
 * - `sys_journal_field` readable: every work note is written once because the journal is read
 *   first; without the read ACL rows are filtered, not refused (an empty answer, no error).
 * - the two business rules, active, and the change rule firing when correlation_id is set
 *   (standard changes are tagged by a PATCH after their create).
 * - the optional incident count field, and the integration user's roles (when it is known).
 *
 * @module
 */
import type { ServiceNowConnection } from '../config/servicenow.js';
import type { ServiceNowClient } from './client.js';
import type { DoctorRow } from './doctor.js';
import { ServiceNowError } from './errors.js';

/** Names the install kit gives the business rules (deploy/servicenow/README.md, step 4). */
export const BUSINESS_RULES = {
  change_request: 'changegate: notify change update',
  incident: 'changegate: notify incident update',
} as const;

/** Roles the integration user needs (deploy/servicenow/README.md, step 5a). */
export const REQUIRED_ROLES = ['itil', 'change_manager'] as const;

/** The field the incident worker also writes the failure count to, when the instance has it. */
export const COUNT_FIELD = 'u_changegate_failures';

/** A 403, or a table the instance does not expose to this user (400 invalid table). */
const notVisible = (err: unknown) =>
  err instanceof ServiceNowError && (err.kind === 'forbidden' || err.kind === 'invalid');

const said = (err: unknown) =>
  err instanceof ServiceNowError
    ? `HTTP ${err.upstreamStatus ?? '?'} ${err.snMessage ?? err.kind}`.trim()
    : String(err);

export async function checkFeatures(
  label: string,
  client: ServiceNowClient,
  connection: ServiceNowConnection,
  countField = COUNT_FIELD,
): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const row = (check: string, r: Omit<DoctorRow, 'check'>) =>
    rows.push({ check: `${label} ${check}`, ...r });

  // Approvals: read once per release.
  try {
    await client.table.query('sysapproval_approver', { limit: 1, fields: ['sys_id'] });
    row('feature: approvals readable', {
      result: 'PASS',
      detail: 'sysapproval_approver can be read (approver names on gate.released)',
    });
  } catch (err) {
    row('feature: approvals readable', {
      result: 'FAIL',
      detail: said(err),
      fix: 'give the integration user read access to sysapproval_approver (itil or approver_user)',
    });
  }

  // Journal: filtered, not refused, without the ACL — so an empty answer is the symptom.
  try {
    const notes = await client.table.query('sys_journal_field', {
      query: 'element=work_notes^nameINchange_request,incident',
      limit: 1,
      fields: ['sys_id'],
    });
    row(
      'feature: journal readable',
      notes.length > 0
        ? { result: 'PASS', detail: 'work notes of change requests and incidents can be read' }
        : {
            result: 'FAIL',
            detail:
              'no work note is readable: sys_journal_field rows are filtered (or the instance has no work notes yet), so redeliveries could write notes twice',
            fix: 'create the sys_journal_field read ACLs of deploy/servicenow/README.md step 5c',
          },
    );
  } catch (err) {
    row('feature: journal readable', {
      result: 'FAIL',
      detail: said(err),
      fix: 'create the sys_journal_field read ACLs of deploy/servicenow/README.md step 5c',
    });
  }

  // Business rules: sys_script is usually admin-only; then say what to check by hand.
  for (const [table, name] of Object.entries(BUSINESS_RULES)) {
    const check = `feature: business rule on ${table}`;
    try {
      const [rule] = await client.table.query('sys_script', {
        query: `collection=${table}^name=${name}`,
        limit: 1,
        fields: ['sys_id', 'name', 'active', 'when', 'condition'],
      });
      if (!rule) {
        row(check, {
          result: 'FAIL',
          detail: `no business rule "${name}" on ${table}: changegate hears of no update`,
          fix: 'create it as in deploy/servicenow/README.md step 4',
        });
      } else if (rule.active !== 'true') {
        row(check, { result: 'FAIL', detail: `"${name}" is inactive`, fix: 'tick Active' });
      } else if (
        table === 'change_request' &&
        !(rule.condition ?? '').includes('correlation_id.changes()')
      ) {
        row(check, {
          result: 'WARN',
          detail: `"${name}" does not fire when correlation_id is set: a standard change (tagged after its create) is heard of only at its next state change`,
          fix: 'add `|| current.correlation_id.changes()` to the condition (deploy/servicenow/README.md step 4)',
        });
      } else {
        row(check, { result: 'PASS', detail: `"${name}" active (${rule.when || 'async'})` });
      }
    } catch (err) {
      if (!notVisible(err)) throw err;
      row(check, {
        result: 'WARN',
        detail: `cannot read sys_script as this user (${said(err)})`,
        fix: `check System Definition → Business Rules for an active async rule "${name}"`,
      });
    }
  }

  // The optional count field: the count itself is in the work notes.
  try {
    const [field] = await client.table.query('sys_dictionary', {
      query: `name=incident^element=${countField}`,
      limit: 1,
      fields: ['sys_id', 'internal_type'],
    });
    row(
      `feature: incident field ${countField}`,
      field
        ? { result: 'PASS', detail: `incident.${countField} exists (failure count as a column)` }
        : {
            result: 'WARN',
            detail: `incident.${countField} does not exist: repeat counts are kept in the work notes only`,
            fix: 'optional: create the Integer field of deploy/servicenow/README.md step 5d for a column',
          },
    );
  } catch (err) {
    if (!notVisible(err)) throw err;
    row(`feature: incident field ${countField}`, {
      result: 'WARN',
      detail: `cannot read sys_dictionary as this user (${said(err)}); repeat counts are in the work notes either way`,
    });
  }

  // Roles: only a named user can be looked up (the OAuth application user is not known here).
  const user =
    connection.auth.type === 'basic'
      ? connection.auth.username
      : connection.auth.grant === 'password'
        ? connection.auth.username
        : undefined;
  if (!user) {
    row('feature: roles', {
      result: 'WARN',
      detail: `the OAuth application user is not known to changegate; the checks above probe the access its roles give`,
      fix: `give it ${REQUIRED_ROLES.join(', ')} (deploy/servicenow/README.md step 5a)`,
    });
    return rows;
  }
  try {
    const [me] = await client.table.query('sys_user', {
      query: `user_name=${user}`,
      limit: 1,
      fields: ['sys_id'],
    });
    const granted = me?.sys_id
      ? await client.table.query('sys_user_has_role', {
          query: `user=${me.sys_id}`,
          fields: ['role'],
          displayValue: true,
          limit: 500,
        })
      : [];
    const have = new Set(granted.map((g) => g.role ?? ''));
    const missing = REQUIRED_ROLES.filter((r) => !have.has(r));
    row(
      'feature: roles',
      missing.length === 0
        ? { result: 'PASS', detail: `${user} has ${REQUIRED_ROLES.join(', ')}` }
        : {
            result: granted.length === 0 ? 'WARN' : 'FAIL',
            detail:
              granted.length === 0
                ? `no role of ${user} is readable (sys_user_has_role)`
                : `${user} lacks ${missing.join(', ')}`,
            fix: `give ${user} ${missing.join(', ')} (deploy/servicenow/README.md step 5a)`,
          },
    );
  } catch (err) {
    if (!notVisible(err)) throw err;
    row('feature: roles', {
      result: 'WARN',
      detail: `cannot read the roles of ${user} (${said(err)})`,
      fix: `check that ${user} has ${REQUIRED_ROLES.join(', ')}`,
    });
  }
  return rows;
}
