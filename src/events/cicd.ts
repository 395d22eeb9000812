import { z } from 'zod';
import { CallbackSchema, CicdOriginSchema, HttpUrlSchema, PROVIDERS } from './common.js';

/** The origin fields every CI/CD event carries, as a normalizer writes them. */
export type CicdOrigin = z.input<typeof CicdOriginSchema>;

export const RunSchema = z.object({
  id: z.string().min(1),
  url: HttpUrlSchema.optional(),
  name: z.string().optional(),
  attempt: z.number().int().positive().optional(),
});

/** A person as a CI system names them (any of the three may be missing). */
export const PersonSchema = z.object({
  login: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
});
export type Person = z.infer<typeof PersonSchema>;

export const CommitSchema = z.object({
  sha: z.string().optional(),
  ref: z.string().optional(),
  message: z.string().optional(),
  author: PersonSchema.optional(),
  committer: PersonSchema.optional(),
});

/** One deployment of one project to one environment, as every provider describes it. */
export const DeploymentDataSchema = CicdOriginSchema.extend({
  environment: z.string().min(1),
  /** Stable across re-runs of the same deployment: the unit a change request belongs to. */
  deploymentId: z.string().min(1),
  /** `<provider>/<project>/<deploymentId>`: written to the CR's correlation_id. */
  correlationId: z.string().min(1),
  run: RunSchema.optional(),
  commit: CommitSchema.default({}),
  actor: z.string().optional(),
  /** The author of the pull/merge request the deployed commit came from, when known. */
  pullRequestAuthor: PersonSchema.optional(),
  /** A CR the pipeline names explicitly (deployment input, commit trailer, CI variable). */
  changeNumber: z.string().optional(),
  labels: z.array(z.string()).default([]),
  emergency: z.boolean().default(false),
  /** Present when the CI system waits for a decision (protection rule, blocked deployment, check). */
  callback: CallbackSchema.optional(),
  description: z.string().optional(),
});
export type DeploymentData = z.infer<typeof DeploymentDataSchema>;

/** A pipeline (workflow run, GitLab pipeline, Jenkins build, Azure build) finished. */
export const PipelineDataSchema = CicdOriginSchema.extend({
  run: RunSchema,
  pipeline: z.string().min(1),
  environment: z.string().optional(),
  commit: CommitSchema.default({}),
  actor: z.string().optional(),
  status: z.enum(['succeeded', 'failed', 'canceled']),
  /** A CR the pipeline names (CI variable, commit trailer). */
  changeNumber: z.string().optional(),
  /** Failing jobs or stages, when the provider tells. */
  failures: z.array(z.object({ name: z.string(), url: HttpUrlSchema.optional() })).default([]),
});
export type PipelineData = z.infer<typeof PipelineDataSchema>;

export const TestReportSchema = z.object({
  format: z.enum(['junit', 'sarif', 'log', 'other']),
  name: z.string().min(1),
  url: HttpUrlSchema.optional(),
  content: z.string().optional(),
  contentType: z.string().optional(),
});

/** Test results and logs that belong to a deployment: evidence for its CR. */
export const TestReportedDataSchema = CicdOriginSchema.extend({
  run: RunSchema.optional(),
  environment: z.string().optional(),
  deploymentId: z.string().optional(),
  correlationId: z.string().optional(),
  changeNumber: z.string().optional(),
  summary: z
    .object({
      passed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      skipped: z.number().int().nonnegative(),
    })
    .optional(),
  reports: z.array(TestReportSchema).default([]),
});
export type TestReportedData = z.infer<typeof TestReportedDataSchema>;

/** A verified delivery that no normalizer maps: published anyway, so subscribers lose nothing. */
export const WebhookReceivedDataSchema = CicdOriginSchema.extend({
  /** Every receiver, ServiceNow's business rules included: none may refuse a verified delivery. */
  provider: z.enum([...PROVIDERS, 'servicenow']),
  action: z.string().optional(),
  /**
   * Why a verified delivery was not mapped further: it could not be normalized (e.g.
   * `invalid_json: …`), or a known event had a shape it could not read (`invalid_field:builds.0.id`).
   */
  reason: z.string().optional(),
});
export type WebhookReceivedData = z.infer<typeof WebhookReceivedDataSchema>;
