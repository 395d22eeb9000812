/**
 * The sandbox's own control surface (not a ServiceNow API): play approver, move states, inject
 * faults, inspect records, outbound messages and the request log.
 *
 * @module
 */
import { decideApproval, findChange } from './actions.js';
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
  /** Approve the pending approval of a change (by number or sys_id); it moves to Scheduled. */
  approve(number: string, comment?: string): SnRecord;
  /** Reject the pending approval; the change goes back to New. */
  reject(number: string, comment?: string): SnRecord;
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
  for (const t of templates) {
    const template = Object.entries(t.fields)
      .map(([k, v]) => `${k}=${v}`)
      .join('^');
    s.insert('std_change_record_producer', { name: t.name, active: 'true', template }, 'system');
  }
  if (!extras) return;
  for (const u of users) {
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
  const decide = (ref: string, decision: 'approved' | 'rejected', comment?: string): SnRecord => {
    const record = change(ref);
    if (record.approval !== 'requested') {
      throw new Error(
        `${PREFIX} ${record.number ?? ref} has no pending approval (approval=${record.approval ?? ''}, state=${record.state ?? ''})`,
      );
    }
    return unwrap(decideApproval(ctx, record, decision, comment, ADMIN_USER), ref);
  };
  const update = (table: string, record: SnRecord, patch: Record<string, string>): SnRecord =>
    unwrap(ctx.store.update(table, record.sys_id ?? '', patch, ADMIN_USER), record.number ?? '');

  return {
    approve: (ref, comment) => decide(ref, 'approved', comment),
    reject: (ref, comment) => decide(ref, 'rejected', comment),
    setState: (ref, state) => update('change_request', change(ref), { state }),
    cancel: (ref) => update('change_request', change(ref), { state: '4' }),
    setField: (ref, field, value) => {
      const asChange = findChange(ctx, ref);
      if (asChange) return update('change_request', asChange, { [field]: value });
      const incident = ctx.store.findByNumber('incident', ref) ?? ctx.store.get('incident', ref);
      if (incident) return update('incident', incident, { [field]: value });
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
