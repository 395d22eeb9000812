import { z } from 'zod';
import { PersonSchema } from './cicd.js';
import { CallbackSchema, ProviderSchema, HttpUrlSchema } from './common.js';

/** What the gate worker knows of a CR: the fields its rules read, as ServiceNow stores them. */
export const ChangeSnapshotSchema = z.object({
  sysId: z.string().min(1),
  number: z.string().min(1),
  state: z.string().optional(),
  approval: z.string().optional(),
  startDate: z.string().optional(),
  endDate: z.string().optional(),
  fields: z.record(z.string(), z.string()).default({}),
  /** ServiceNow's `sys_mod_count`: orders updates that share a `sys_updated_on` second. */
  modCount: z.number().int().nonnegative().optional(),
  updatedAt: z.string().optional(),
});
export type ChangeSnapshot = z.infer<typeof ChangeSnapshotSchema>;

/** A deployment waits on a CR; the gate worker releases or rejects it exactly once. */
export const GateRegisteredDataSchema = z.object({
  gateId: z.string().min(1),
  changeNumber: z.string().min(1),
  changeSysId: z.string().min(1),
  provider: ProviderSchema,
  project: z.string().min(1),
  environment: z.string().min(1),
  deploymentId: z.string().min(1),
  correlationId: z.string().min(1),
  callback: CallbackSchema,
  runUrl: HttpUrlSchema.optional(),
  /** Name of the gate policy whose rules apply. */
  policy: z.string().default('default'),
  registeredAt: z.iso.datetime({ offset: true }),
  /** The CR as read once at registration: it may already be approved. */
  change: ChangeSnapshotSchema.optional(),
  /** Who pushed this deployment through, for separation of duties against the approver. */
  people: z
    .object({
      actor: PersonSchema.optional(),
      commitAuthor: PersonSchema.optional(),
      committer: PersonSchema.optional(),
      pullRequestAuthor: PersonSchema.optional(),
    })
    .optional(),
});
export type GateRegisteredData = z.infer<typeof GateRegisteredDataSchema>;

/**
 * A gate as the gate worker keeps it: a registered gate names its CR; one the change worker
 * decided before any CR was linked (not change-controlled, no CR to link) names none.
 */
export const GateDataSchema = GateRegisteredDataSchema.partial({
  changeNumber: true,
  changeSysId: true,
});
export type GateData = z.infer<typeof GateDataSchema>;

/** What the change worker decided for a gate it will not hold (see GatePredecidedDataSchema). */
export const GateDecisionSchema = z.object({
  outcome: z.enum(['released', 'rejected']),
  /** Why, as the CI system is told it ("changegate: <reason>"). */
  reason: z.string().min(1),
});
export type GateDecision = z.infer<typeof GateDecisionSchema>;

/**
 * A deployment the change worker decided at its request (its environment is not
 * change-controlled, the CR it names is refused or missing, a policy forbids it): the gate
 * worker alone calls the CI system back, once, so "exactly one callback per gate" holds in one
 * place. Keyed by the CR number when a CR was named, else by the correlation id.
 */
export const GatePredecidedDataSchema = GateDataSchema.extend({ decided: GateDecisionSchema });
export type GatePredecidedData = z.infer<typeof GatePredecidedDataSchema>;

/**
 * Who approved the CR, from its `sysapproval_approver` records (state approved), read once when
 * the gate decides to release. Names come from the approver's `sys_user` record.
 */
export const ApproverSchema = z.object({
  /** sys_user sys_id (`sysapproval_approver.approver`). */
  sysId: z.string().min(1),
  /** sys_user `user_name`. */
  userName: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  /** The approval record's `sys_updated_on` (ServiceNow time, UTC). */
  approvedAt: z.string().optional(),
});
export type Approver = z.infer<typeof ApproverSchema>;

export const GateDecidedDataSchema = z.object({
  gateId: z.string().min(1),
  changeNumber: z.string().min(1),
  changeSysId: z.string().optional(),
  correlationId: z.string().min(1),
  outcome: z.enum(['released', 'rejected', 'expired']),
  reason: z.string(),
  decidedAt: z.iso.datetime({ offset: true }),
  /** From registration to decision. */
  waitedMs: z.number().nonnegative(),
  /** From the ServiceNow update that made the decision possible to the CI callback's answer. */
  latencyMs: z.number().nonnegative().optional(),
  /** On a release: who approved the CR (empty when it needed no approver, e.g. standard). */
  approvedBy: z.array(ApproverSchema).optional(),
  callback: z.object({
    status: z.enum(['done', 'already-decided', 'skipped', 'failed']),
    httpStatus: z.number().int().optional(),
    error: z.string().optional(),
  }),
});
export type GateDecidedData = z.infer<typeof GateDecidedDataSchema>;

/** The change worker's own report of what it did to a CR (created, linked, moved, closed). */
export const ChangeActionDataSchema = z.object({
  changeNumber: z.string().min(1),
  changeSysId: z.string().min(1),
  correlationId: z.string().min(1),
  action: z.enum([
    'created',
    'linked',
    'reused',
    'implementing',
    'noted',
    'closed',
    'left-implement',
  ]),
  /** normal | standard | emergency, as ServiceNow stores it. */
  changeType: z.string().optional(),
  /** The CR's approval when the action was taken (`requested` for a new normal/emergency CR). */
  approval: z.string().optional(),
  runUrl: HttpUrlSchema.optional(),
  detail: z.string().optional(),
  closeCode: z.string().optional(),
});
export type ChangeActionData = z.infer<typeof ChangeActionDataSchema>;
