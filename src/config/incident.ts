import { z } from 'zod';

/** Glob with `*` only, as in change policies. */
const Glob = z.string().min(1).default('*');

/** Which failures file incidents: `pipeline.failed`, `deployment.failed`. */
export const INCIDENT_TRIGGERS = ['pipeline.failed', 'deployment.failed'] as const;
export type IncidentTrigger = (typeof INCIDENT_TRIGGERS)[number];

/** ServiceNow impact/urgency: 1 High, 2 Medium, 3 Low (numbers or strings in YAML). */
const Level = z.union([z.literal(1), z.literal(2), z.literal(3)]).or(z.enum(['1', '2', '3']));

/**
 * How failures of one project × environment become incidents. Policies are tried in order; the
 * first whose `match` fits wins. String fields are templates (`{{project}}`, `{{environment}}`,
 * `{{pipeline}}`, `{{commit.short}}`, `{{run.url}}`, `{{actor}}`, `{{ref}}`, `{{kind}}`).
 */
export const IncidentPolicySchema = z.object({
  name: z.string().min(1),
  /** Pipeline events without an environment match against the empty string (so `*` fits). */
  match: z.object({ project: Glob, environment: Glob, provider: Glob }).prefault({}),
  on: z.array(z.enum(INCIDENT_TRIGGERS)).default([...INCIDENT_TRIGGERS]),
  /** ServiceNow connection name (default connection when absent). */
  connection: z.string().optional(),
  impact: Level.default(2),
  urgency: Level.default(2),
  category: z.string().default('software'),
  subcategory: z.string().optional(),
  assignmentGroup: z.string().optional(),
  callerId: z.string().optional(),
  cmdbCi: z.string().optional(),
  /** Overrides the generated short description. */
  shortDescription: z.string().optional(),
  /** Any other incident fields, templated (business_service, contact_type, …). */
  fields: z.record(z.string(), z.string()).default({}),
  /** A failure of the same fingerprint within this long of an open incident is a repeat. */
  repeatWindowMinutes: z
    .number()
    .int()
    .positive()
    .default(24 * 60),
  /**
   * Optional Integer field that gets a copy of the failure count. The count itself is the
   * number of changegate failure notes on the incident, so it works without any custom field;
   * an instance without this field (writes to it are ignored) loses nothing but a column.
   */
  countField: z.string().min(1).default('u_changegate_failures'),
  /** Where the CR that deployed is linked: `caused_by` (Caused by Change) or `rfc` (Change Request). */
  changeField: z.enum(['caused_by', 'rfc']).default('caused_by'),
  /** The next success of the same fingerprint resolves the open incident. */
  resolveOnSuccess: z.boolean().default(true),
  closeCode: z.string().min(1).default('Solution provided'),
  closeNotes: z
    .string()
    .default(
      'Resolved by changegate: {{kind}} of {{project}} {{target}} succeeded again. Run: {{run.url}}',
    ),
});
export type IncidentPolicy = z.infer<typeof IncidentPolicySchema>;

/** `incidents` section: by default failed production deployments file incidents, nothing else. */
export const IncidentsSchema = z
  .object({
    policies: z.array(IncidentPolicySchema).prefault([
      {
        name: 'production-deployments',
        match: { environment: 'prod*' },
        on: ['deployment.failed'],
      },
    ]),
  })
  .prefault({});
export type IncidentsConfig = z.infer<typeof IncidentsSchema>;
