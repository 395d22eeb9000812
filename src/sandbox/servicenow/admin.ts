/**
 * The sandbox's own control surface (not a ServiceNow API): play approver, move states, inject
 * faults, inspect records, outbound messages and the request log.
 *
 * @module
 */
import { decideAs, findChange, userNameOf } from './actions.js';
import { APPROVER_USERS, pendingApprovals } from './approvals.js';
import { BASE_RELATION_TYPES } from './ire-rules.js';
import type { SandboxContext } from './context.js';
import type { WriteResult } from './store.js';
import type {
  ChangeTemplate,
  FaultControl,
  OutboundRecord,
  OutboundTarget,
  RequestLogEntry,
  SandboxUser,
  SnRecord,
} from './types.js';

/** In-process control of a running sandbox; every action also exists under `/sandbox/admin/*`. */
export interface SandboxAdmin {
  /**
   * Approve a change (by number or sys_id) the way its approvers would: each pending
   * sysapproval_approver record is approved by its own approver (or only `approver`'s). Unless
   * `stages: 'current'`, the next stage's records (CAB after technical) are approved too, so
   * one call takes a normal change from Assess to Scheduled.
   */
  approve(number: string, comment?: string, opts?: ApproveOptions): SnRecord;
  /** Reject as the first pending approver (or `approver`); the change goes back to New. */
  reject(number: string, comment?: string, opts?: { approver?: string }): SnRecord;
  /** The change's sysapproval_approver records, oldest first. */
  approvals(number: string): SnRecord[];
  /** Move a change to a state, validated by the state model like a UI update. */
  setState(number: string, state: string): SnRecord;
  /** Write one field of a change or incident (by number or sys_id), through business rules. */
  setField(number: string, field: string, value: string): SnRecord;
  /** Cancel a change (state 4). */
  cancel(number: string): SnRecord;
  faults: FaultControl;
  outbound: {
    set(targets: OutboundTarget[]): void;
    sent(): OutboundRecord[];
    /** Resolves once every queued business-rule message was delivered, failed or dropped. */
    idle(): Promise<void>;
  };
  records(table: string): SnRecord[];
  requests(): RequestLogEntry[];
  /** Forget all data, tokens, faults and logs; re-seed. Outbound targets stay. */
  reset(): void;
}

export interface ApproveOptions {
  /** user_name of the approver to act as; default: every pending approver in turn. */
  approver?: string;
  /** `all` (default): keep approving until no stage is pending; `current`: one stage. */
  stages?: 'all' | 'current';
}

const ADMIN_USER = 'admin';
const PREFIX = '[changegate/sandbox/servicenow]';

function unwrap(result: WriteResult | undefined, ref: string): SnRecord {
  if (!result) throw new Error(`${PREFIX} no record ${ref}`);
  if (!result.ok) throw new Error(`${PREFIX} ${result.detail}`);
  return result.record;
}

/** Default standard change templates (std_change_record_producer). */
export const DEFAULT_TEMPLATES: ChangeTemplate[] = [
  {
    name: 'Deploy application release (changegate)',
    fields: {
      short_description: 'Deploy application release',
      category: 'Software',
      risk: '4',
      impact: '3',
      implementation_plan: 'Automated pipeline deployment',
      backout_plan: 'Automated rollback to the previous release',
      test_plan: 'Automated smoke tests',
    },
  },
  {
    name: 'Restart application service',
    fields: { short_description: 'Restart application service', category: 'Software', risk: '4' },
  },
];

/** Seed users, groups, CIs and templates the way a fresh demo instance would have them. */
export function seed(
  ctx: SandboxContext,
  users: SandboxUser[],
  templates: ChangeTemplate[],
  extras: boolean,
): void {
  const s = ctx.store;
  // Change models (Change Management API, GET /sn_chg_rest/change/model).
  for (const [name, type, color] of [
    ['Normal', 'normal', '#488df4'],
    ['Standard', 'standard', '#4ab34a'],
    ['Emergency', 'emergency', '#ea3423'],
  ] as const) {
    s.insert(
      'chg_model',
      {
        name,
        sys_name: name,
        description: `ITIL Mode 1 ${name} Change`,
        color,
        default_change_model: String(type === 'normal'),
        record_preset: `type=${type}^EQ`,
      },
      'system',
    );
  }
  // Base relation types (cmdb_rel_type), seeded or not: identifyreconcile accepts no others.
  for (const name of BASE_RELATION_TYPES) {
    const [parent_descriptor = '', child_descriptor = ''] = name.split('::');
    s.insert(
      'cmdb_rel_type',
      { name, sys_name: name, parent_descriptor, child_descriptor },
      'system',
    );
  }
  // Approvers always exist, seeded or not: the approval engine names them on
  // sysapproval_approver records.
  for (const u of APPROVER_USERS) {
    s.insert(
      'sys_user',
      { user_name: u.username, name: u.name, active: 'true', roles: u.roles.join(',') },
      'system',
    );
  }
  for (const t of templates) {
    const template = Object.entries(t.fields)
      .map(([k, v]) => `${k}=${v}`)
      .join('^');
    const producer = s.insert(
      'std_change_record_producer',
      {
        name: t.name,
        active: 'true',
        template,
        short_description: t.fields.short_description ?? '',
      },
      'system',
    );
    if (!producer.ok) continue;
    const version = s.insert(
      'std_change_producer_version',
      {
        name: `${t.name} - 1`,
        std_change_producer: producer.record.sys_id,
        version: '1',
        template,
      },
      'system',
    );
    if (version.ok)
      s.update(
        'std_change_record_producer',
        producer.record.sys_id ?? '',
        { current_version: version.record.sys_id },
        'system',
      );
  }
  if (!extras) return;
  for (const u of users) {
    if (APPROVER_USERS.some((a) => a.username === u.username)) continue;
    s.insert(
      'sys_user',
      { user_name: u.username, name: u.username, active: 'true', roles: u.roles.join(',') },
      'system',
    );
  }
  for (const name of ['Change Management', 'Application Development', 'Network', 'Service Desk']) {
    s.insert('sys_user_group', { name, active: 'true' }, 'system');
  }
  s.insert('cmdb_ci_service', { name: 'Online Banking', operational_status: '1' }, 'system');
  s.insert(
    'cmdb_ci_appl',
    { name: 'changegate-demo-app', version: '1.0.0', operational_status: '1' },
    'system',
  );
  s.insert(
    'cmdb_ci_linux_server',
    { name: 'web-01', ip_address: '10.0.1.1', operational_status: '1' },
    'system',
  );
}

/** Build the admin facade over a sandbox context. */
export function createAdmin(ctx: SandboxContext, reseed: () => void): SandboxAdmin {
  const change = (ref: string): SnRecord => {
    const record = findChange(ctx, ref);
    if (!record) throw new Error(`${PREFIX} no change_request ${ref}`);
    return record;
  };
  const pendingOf = (record: SnRecord, approver?: string): string[] => {
    const names = pendingApprovals(ctx.store, record.sys_id ?? '').map((a) =>
      userNameOf(ctx, a.approver ?? ''),
    );
    return approver ? names.filter((n) => n === approver) : names;
  };
  const noPending = (record: SnRecord, ref: string, approver?: string): Error =>
    new Error(
      `${PREFIX} ${record.number ?? ref} has no pending approval${approver ? ` for ${approver}` : ''} (approval=${record.approval ?? ''}, state=${record.state ?? ''})`,
    );
  const decide = (
    ref: string,
    decision: 'approved' | 'rejected',
    comment: string | undefined,
    opts: ApproveOptions,
  ): SnRecord => {
    let record = change(ref);
    let names = pendingOf(record, opts.approver);
    if (names.length === 0) throw noPending(record, ref, opts.approver);
    while (names.length > 0) {
      for (const name of decision === 'rejected' ? names.slice(0, 1) : names) {
        const result = decideAs(ctx, record, name, decision, comment);
        if (!result.ok) throw new Error(`${PREFIX} ${result.detail}`);
        record = result.change;
      }
      if (decision === 'rejected' || opts.stages === 'current') break;
      names = pendingOf(record, opts.approver);
    }
    return record;
  };
  const update = (table: string, record: SnRecord, patch: Record<string, string>): SnRecord =>
    unwrap(ctx.store.update(table, record.sys_id ?? '', patch, ADMIN_USER), record.number ?? '');

  return {
    approve: (ref, comment, opts) => decide(ref, 'approved', comment, opts ?? {}),
    reject: (ref, comment, opts) => decide(ref, 'rejected', comment, opts ?? {}),
    approvals: (ref) =>
      ctx.store.list('sysapproval_approver').filter((a) => a.sysapproval === change(ref).sys_id),
    setState: (ref, state) => update('change_request', change(ref), { state }),
    cancel: (ref) => update('change_request', change(ref), { state: '4' }),
    setField: (ref, field, value) => {
      const asChange = findChange(ctx, ref);
      const incident = asChange
        ? undefined
        : (ctx.store.findByNumber('incident', ref) ?? ctx.store.get('incident', ref));
      const table = asChange ? 'change_request' : 'incident';
      const record = asChange ?? incident;
      if (record) {
        const result = ctx.store.update(table, record.sys_id ?? '', { [field]: value }, ADMIN_USER);
        if (result?.ok && result.ignored.length > 0) {
          // A client's write of it would be dropped too; say so instead of pretending.
          throw new Error(
            `${PREFIX} ${table}.${field} is not writable (${field === 'approval' ? 'the approval engine sets it: use approve/reject' : 'no such column, or read-only'})`,
          );
        }
        return unwrap(result, record.number ?? ref);
      }
      throw new Error(`${PREFIX} no change_request or incident ${ref}`);
    },
    faults: ctx.faults,
    outbound: {
      set: (targets) => {
        ctx.outbound.targets = [...targets];
      },
      sent: () => ctx.outbound.sent(),
      idle: () => ctx.outbound.idle(),
    },
    records: (table) => ctx.store.list(table),
    requests: () => ctx.requestLog.map((r) => ({ ...r })),
    reset: () => {
      ctx.store.reset();
      ctx.auth.reset();
      ctx.faults.clear();
      ctx.attachments.clear();
      ctx.requestLog.length = 0;
      reseed();
    },
  };
}
