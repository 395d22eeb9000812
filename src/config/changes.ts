import { z } from 'zod';
import { globMatch } from '../policy/glob.js';

/** Glob with `*` only (e.g. `acme/*`, `prod*`): readable in YAML, no regex surprises. */
const Glob = z.string().min(1).default('*');

export const PolicyMatchSchema = z
  .object({ project: Glob, environment: Glob, provider: Glob })
  .prefault({});

/**
 * How one project × environment is change-controlled. Policies are tried in order; the first
 * whose `match` fits wins. Templates (`{{project}}`, `{{environment}}`, `{{commit.short}}`,
 * `{{run.url}}`, `{{actor}}`, `{{ref}}`) are filled from the deployment event.
 */
export const ChangePolicySchema = z.object({
  name: z.string().min(1),
  match: PolicyMatchSchema,
  /** none: not controlled · normal/standard/emergency: create that CR · link: only use a CR the pipeline names. */
  mode: z.enum(['none', 'normal', 'standard', 'emergency', 'link']).default('normal'),
  /** ServiceNow connection name (default connection when absent). */
  connection: z.string().optional(),
  /** Standard change template: its sys_id or its name. Required for mode standard. */
  template: z.string().optional(),
  /** When any of these hold, an emergency CR is created instead. */
  emergencyWhen: z
    .object({
      labels: z.array(z.string()).default(['emergency', 'hotfix']),
      branches: z.array(z.string()).default(['hotfix/*']),
      flag: z.boolean().default(true),
    })
    .prefault({}),
  /**
   * Linking a CR the pipeline names (`byNumber`, off by default: anyone who can write a commit
   * message could otherwise name any approved CR) or finds by exact short_description
   * (`byTitle`). A linked CR must belong to this project × environment: bound to this
   * deployment by correlation_id, or unbound and matching `cmdbCi`, `assignmentGroup` or every
   * field of `fields`. A CR bound to another deployment is refused unless `allowReuse` (and
   * only one of the same project).
   */
  link: z
    .object({
      byNumber: z.boolean().default(false),
      byTitle: z.string().optional(),
      /** sys_id of the CI a CR raised by hand must name (`cmdb_ci`). */
      cmdbCi: z.string().min(1).optional(),
      /** sys_id of the assignment group a CR raised by hand must have. */
      assignmentGroup: z.string().min(1).optional(),
      /** Other change_request fields a CR raised by hand must hold (templated). */
      fields: z.record(z.string(), z.string()).default({}),
      allowReuse: z.boolean().default(false),
    })
    .prefault({}),
  /** release: one CR for every environment of one commit of a project. */
  reuse: z.enum(['none', 'release']).default('none'),
  shortDescription: z.string().default('Deploy {{project}} {{commit.short}} to {{environment}}'),
  description: z
    .string()
    .default(
      'Automated deployment by changegate.\nProject: {{project}}\nEnvironment: {{environment}}\nCommit: {{commit.sha}} ({{ref}})\nRun: {{run.url}}\nRequested by: {{actor}}',
    ),
  /** Extra CR fields, templated: assignment_group, cmdb_ci, category, risk, … */
  fields: z.record(z.string(), z.string()).default({}),
  plannedWindowMinutes: z.number().int().positive().default(120),
  /** Move the CR to Implement when the deployment starts. */
  implementOnStart: z.boolean().default(true),
  onSuccess: z.enum(['close', 'leave']).default('close'),
  /** close: close unsuccessful · leave: keep open · follow-up: close unsuccessful and open a rollback CR whose parent is this one. */
  onFailure: z.enum(['close', 'leave', 'follow-up']).default('close'),
  /** Gate policy (under `gates.policies`) that decides release. */
  gate: z.string().default('default'),
});
export type ChangePolicy = z.infer<typeof ChangePolicySchema>;

export const RuleSchema = z
  .object({
    /** A change_request field: approval, state, risk, u_cab_ok, … */
    field: z.string().min(1),
    op: z.enum(['==', '!=', '<', '<=', '>', '>=', 'in', 'not in', 'matches']),
    value: z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.array(z.union([z.string(), z.number()])),
    ]),
  })
  .superRefine((rule, ctx) => {
    const list = rule.op === 'in' || rule.op === 'not in';
    if (list !== Array.isArray(rule.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: list ? `${rule.op} needs a list` : `${rule.op} needs a single value`,
      });
    }
    if (rule.op === 'matches') {
      try {
        new RegExp(String(rule.value));
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['value'],
          message: `not a regular expression: ${(err as Error).message}`,
        });
      }
    }
  });
export type Rule = z.infer<typeof RuleSchema>;

export const BlackoutSchema = z.object({
  name: z.string().min(1),
  /** Absolute range (ISO 8601) … */
  start: z.iso.datetime({ offset: true }).optional(),
  end: z.iso.datetime({ offset: true }).optional(),
  /** … or weekly, in UTC: days (sun..sat) and HH:MM from/to. */
  weekly: z
    .object({
      days: z.array(z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])).min(1),
      from: z
        .string()
        .regex(/^\d{2}:\d{2}$/)
        .default('00:00'),
      to: z
        .string()
        .regex(/^\d{2}:\d{2}$/)
        .default('24:00'),
    })
    .optional(),
});
export type Blackout = z.infer<typeof BlackoutSchema>;

/**
 * Separation of duties: the person who approved the CR must not be one who pushed the change
 * through (trigger actor, commit author or committer, PR author) nor changegate's own ServiceNow
 * user. CI identities are matched to the approver's sys_user by e-mail, by user name, or through
 * `identities` (CI login or e-mail → ServiceNow user_name). On by default where the environment is
 * production-like.
 */
export const SeparationOfDutiesSchema = z
  .object({
    /** Unset: on for environments matching `productionLike`, off elsewhere. */
    enabled: z.boolean().optional(),
    productionLike: z.array(z.string().min(1)).default(['prod*']),
    /** reject: fail the deployment · hold: keep the gate waiting for another approval. */
    onViolation: z.enum(['reject', 'hold']).default('reject'),
    /** ServiceNow user_names of changegate's integration user(s): never a valid approver. */
    integrationUsers: z.array(z.string().min(1)).default([]),
    /** CI identity (login or e-mail) → ServiceNow user_name, where they differ. */
    identities: z.record(z.string(), z.string().min(1)).default({}),
    matchBy: z.array(z.enum(['email', 'userName'])).default(['email', 'userName']),
  })
  .prefault({});
export type SeparationOfDuties = z.infer<typeof SeparationOfDutiesSchema>;

export const GatePolicySchema = z.object({
  /** States the CR must be in (strings as ServiceNow stores them; -1 Implement). */
  requiredStates: z.array(z.string()).default(['-1']),
  /** When approved, inside its window and Scheduled (-2), move the CR to Implement, which releases it. */
  advanceToImplement: z.boolean().default(true),
  /** Require now ∈ [start_date, end_date] when the CR has them. */
  requireWindow: z.boolean().default(true),
  blackouts: z.array(BlackoutSchema).default([]),
  /** Extra rules that must all hold to release. */
  rules: z.array(RuleSchema).default([]),
  /** Any of these holding rejects the gate. approval rejected and state Canceled always reject. */
  rejectRules: z.array(RuleSchema).default([]),
  timeoutMinutes: z
    .number()
    .positive()
    .default(24 * 60),
  onTimeout: z.enum(['reject', 'leave']).default('reject'),
  separationOfDuties: SeparationOfDutiesSchema,
});
export type GatePolicy = z.infer<typeof GatePolicySchema>;

export const ChangesSchema = z
  .object({
    policies: z.array(ChangePolicySchema).prefault([
      { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
      { name: 'uncontrolled', match: {}, mode: 'none' },
    ]),
  })
  .prefault({});

export const GatesSchema = z
  .object({
    policies: z.record(z.string(), GatePolicySchema).prefault({ default: {} }),
    /**
     * A CI callback still failing after its quick attempts is called again after this delay,
     * doubling up to the cap, until it succeeds or fails for good (a provider's own limit).
     */
    callbackRetry: z
      .object({
        firstDelaySeconds: z.number().positive().default(30),
        maxDelayMinutes: z.number().positive().default(30),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * How long a provider lets a deployment wait on a gate: past this the callback can no longer
 * release or reject it, so a longer gate timeout would only ever end in a failed callback.
 */
export const PROVIDER_GATE_LIMITS: Readonly<Record<string, { minutes: number; why: string }>> = {
  'azure-devops': {
    minutes: 48 * 60,
    why: "Azure DevOps' check AuthToken is valid 48 hours (invoke-checks.md) and Azure does not retry a callback-mode check",
  },
  // The 30 days are issue 13's reading of GitHub's docs; not re-checked here (GitHub's client
  // and its sources belong to the GitHub integration).
  github: {
    minutes: 30 * 24 * 60,
    why: 'GitHub fails a deployment waiting on a protection rule after 30 days',
  },
};

/**
 * Gate timeouts beyond the limit of a provider their change policy can match, as config issues
 * naming the key, the limit and why (refined in `ConfigSchema`, which holds both sections).
 */
export function gateTimeoutIssues(
  changes: z.infer<typeof ChangesSchema>,
  gates: z.infer<typeof GatesSchema>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  for (const policy of changes.policies) {
    if (policy.mode === 'none') continue;
    const gate = gates.policies[policy.gate];
    if (!gate) continue;
    for (const [provider, limit] of Object.entries(PROVIDER_GATE_LIMITS)) {
      if (gate.timeoutMinutes <= limit.minutes || !globMatch(policy.match.provider, provider)) {
        continue;
      }
      if (seen.has(`${policy.gate}/${provider}`)) continue;
      seen.add(`${policy.gate}/${provider}`);
      issues.push({
        path: ['gates', 'policies', policy.gate, 'timeoutMinutes'],
        message: `${gate.timeoutMinutes} minutes is beyond the ${provider} limit of ${limit.minutes} minutes (${limit.minutes / 60} h): ${limit.why}. Change policy '${policy.name}' (match.provider '${policy.match.provider}') sends ${provider} deployments to this gate; lower the timeout or give ${provider} its own gate policy.`,
      });
    }
  }
  return issues;
}
