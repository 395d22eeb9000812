/**
 * The approval engine: what a change's approval flow does on a real instance, reduced to the
 * records a client can see. When a change enters a stage (normal: technical approval at Assess,
 * CAB at Authorize; emergency: emergency CAB at Authorize) one `sysapproval_approver` record per
 * approver is created in state `requested`. A decision is an update of that record (by its
 * approver, through the Table API or `PATCH /api/sn_chg_rest/change/{sys_id}/approvals`, which
 * "allows the current user to approve or reject a change request approval record"). When every
 * record of the stage is approved the change moves on (Assess -> Authorize -> Scheduled); one
 * rejection sends it back to New with approval `rejected` and withdraws the others
 * (`not_required`, "No Longer Required"). Leaving a stage any other way withdraws its records.
 *
 * Simplifications (documented in SEMANTICS.md): approvers are named users per stage (no
 * approval groups or approval rules), every approver of a stage must approve.
 *
 * @module
 */
import {
  approvalStage,
  AUTOMATIC,
  changeTypeOf,
  STATE,
  type ApprovalStage,
} from './change-model.js';
import type { Store } from './store.js';
import type { SandboxUser, SnRecord } from './types.js';

/** Who approves each stage (sys_user user_names). */
export interface ApproverConfig {
  technical: string[];
  cab: string[];
}

/** The approvers every sandbox has (Basic auth password `changegate`, like the default user). */
export const APPROVER_USERS: (SandboxUser & { name: string })[] = [
  {
    username: 'tech.approver',
    name: 'Technical Approver',
    password: 'changegate',
    roles: ['itil', 'approver_user'],
  },
  {
    username: 'cab.approver',
    name: 'CAB Approver',
    password: 'changegate',
    roles: ['itil', 'approver_user'],
  },
];

export const DEFAULT_APPROVERS: ApproverConfig = {
  technical: ['tech.approver'],
  cab: ['cab.approver'],
};

const TABLE = 'sysapproval_approver';
const SYSTEM = 'system';

/** Pending (`requested`) approval records of a task. */
export function pendingApprovals(store: Store, taskId: string): SnRecord[] {
  return store.list(TABLE).filter((a) => a.sysapproval === taskId && a.state === 'requested');
}

export class ApprovalEngine {
  constructor(
    private readonly store: Store,
    private readonly approvers: ApproverConfig,
  ) {}

  /** Wire the engine to the store's write hook. */
  attach(): void {
    this.store.onWrite((table, record, operation, previous) => {
      if (table === 'change_request') this.onChange(record, operation, previous);
      else if (table === TABLE && operation === 'update') this.onDecision(record, previous);
    });
  }

  private onChange(change: SnRecord, operation: string, previous: SnRecord | undefined): void {
    const entered = operation === 'insert' || previous?.state !== change.state;
    if (!entered) return;
    const id = change.sys_id ?? '';
    // Whatever was pending is no longer required once the change left that state.
    for (const a of pendingApprovals(this.store, id)) {
      this.store.update(TABLE, a.sys_id ?? '', { state: 'not_required' }, SYSTEM, { system: true });
    }
    const stage = approvalStage(changeTypeOf(change.type), change.state ?? '');
    if (stage) this.request(change, stage);
  }

  private request(change: SnRecord, stage: ApprovalStage): void {
    for (const userName of this.approvers[stage]) {
      const approver = this.store.userId(userName);
      if (!approver) continue;
      this.store.insert(
        TABLE,
        {
          approver,
          sysapproval: change.sys_id ?? '',
          document_id: change.sys_id ?? '',
          source_table: 'change_request',
          state: 'requested',
          approval_source: stage,
        },
        SYSTEM,
        { system: true },
      );
    }
  }

  private onDecision(approval: SnRecord, previous: SnRecord | undefined): void {
    if (previous?.state === approval.state || previous?.state !== 'requested') return;
    if (approval.source_table !== 'change_request') return;
    const change = this.store.get('change_request', approval.sysapproval ?? '');
    if (!change) return;
    if (approval.state === 'rejected') {
      this.store.update(
        'change_request',
        change.sys_id ?? '',
        { state: STATE.NEW, approval: 'rejected' },
        SYSTEM,
        { system: true },
      );
      return;
    }
    if (
      approval.state !== 'approved' ||
      pendingApprovals(this.store, change.sys_id ?? '').length > 0
    )
      return;
    const next = AUTOMATIC[changeTypeOf(change.type)][change.state ?? ''];
    if (!next) return;
    const patch: Record<string, string> = { state: next };
    if (!approvalStage(changeTypeOf(change.type), next)) patch.approval = 'approved';
    this.store.update('change_request', change.sys_id ?? '', patch, SYSTEM, { system: true });
  }
}
