import { z } from 'zod';

/**
 * The changegate webhook body: what our Jenkins shared-library step and any `generic` source send,
 * signed as a Standard Webhook (`webhook-id`, `webhook-timestamp`, `webhook-signature`). It follows
 * the spec's recommended shape `{ type, timestamp, data }`. Published as a JSON Schema, so every
 * field carries a `.describe()`; unknown fields are tolerated (and kept in the event's `raw`).
 *
 * @module
 */

/** Every `type` a sender may use. `ping` is answered 200 and published nowhere. */
export const CHANGEGATE_WEBHOOK_TYPES = [
  'deployment.requested',
  'deployment.started',
  'deployment.succeeded',
  'deployment.failed',
  'pipeline.succeeded',
  'pipeline.failed',
  'test.reported',
  'ping',
] as const;
export type ChangegateWebhookType = (typeof CHANGEGATE_WEBHOOK_TYPES)[number];

const name = (max: number) => z.string().trim().min(1).max(max);

export const ChangegateRunSchema = z
  .object({
    id: name(200).describe('CI run identifier, e.g. the Jenkins BUILD_NUMBER or BUILD_TAG.'),
    url: z.url().optional().describe('Human URL of the run, e.g. the Jenkins BUILD_URL.'),
    name: z.string().max(500).optional().describe('Display name of the run, e.g. JOB_NAME #42.'),
    attempt: z.number().int().positive().optional().describe('Re-run attempt, 1 for the first.'),
  })
  .describe('The CI run this event comes from.');

export const ChangegateCommitSchema = z
  .object({
    sha: z.string().max(100).optional().describe('Commit id that is deployed or built.'),
    ref: z.string().max(500).optional().describe('Branch or tag, e.g. refs/heads/main.'),
    message: z
      .string()
      .max(10_000)
      .optional()
      .describe('Commit message; a `Change: CHG0012345` trailer names the CR.'),
  })
  .describe('The source revision.');

export const ChangegateCallbackSchema = z
  .object({
    kind: z
      .enum(['jenkins', 'generic'])
      .optional()
      .describe('`jenkins` for an `input` step, `generic` for a signed POST back to `url`.'),
    url: z
      .url()
      .describe(
        'Jenkins: the build URL (BUILD_URL) whose `input` step waits. Generic: the URL changegate POSTs the decision to, signed as a Standard Webhook with the same secret.',
      ),
    inputId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/)
      .optional()
      .describe(
        "Jenkins only: the `input` step's id, default `ChangeGate` (Jenkins capitalises the first letter).",
      ),
  })
  .describe('Present when the pipeline waits for the gate decision (deployment.requested).');

export const ChangegateReportSchema = z
  .object({
    format: z.enum(['junit', 'sarif', 'log']).describe('Report format.'),
    name: name(200).describe('File or report name, e.g. junit-unit.xml.'),
    url: z.url().optional().describe('Where changegate can download the report.'),
    content: z.string().optional().describe('The report inline (bounded by the body size limit).'),
    contentType: z.string().max(200).optional().describe('MIME type of `content`.'),
  })
  .refine((r) => r.url !== undefined || r.content !== undefined, {
    message: 'a report needs url or content',
  })
  .describe('One test report or log attached to the change as evidence.');

export const ChangegateSummarySchema = z
  .object({
    passed: z.number().int().nonnegative().describe('Tests passed.'),
    failed: z.number().int().nonnegative().describe('Tests failed.'),
    skipped: z.number().int().nonnegative().describe('Tests skipped.'),
  })
  .describe('Test counts.');

/** Fields every non-ping type shares. */
const common = {
  project: name(200).describe('Repository or project path, e.g. `acme/payments`.'),
  environment: name(100).optional().describe('Target environment, e.g. `production`.'),
  deploymentId: name(200)
    .optional()
    .describe(
      'Stable across re-runs of one deployment (e.g. `<release>-<environment>`): the unit one change request covers.',
    ),
  run: ChangegateRunSchema.optional(),
  commit: ChangegateCommitSchema.optional(),
  actor: z.string().max(200).optional().describe('Who triggered the run.'),
  changeNumber: z
    .string()
    .regex(/^CHG\d{7,10}$/)
    .optional()
    .describe('An existing ServiceNow change request to use, e.g. CHG0012345.'),
  labels: z.array(z.string().max(100)).max(50).optional().describe('Free-form labels.'),
  emergency: z.boolean().optional().describe('Ask for an emergency change.'),
  description: z.string().max(10_000).optional().describe('Text for the change request.'),
};

const DeploymentDataIn = z
  .object({
    ...common,
    environment: name(100).describe('Target environment, e.g. `production`.'),
    deploymentId: common.deploymentId.unwrap(),
    callback: ChangegateCallbackSchema.optional(),
  })
  .describe('A deployment of `project` to `environment`.');

const PipelineDataIn = z
  .object({
    ...common,
    run: ChangegateRunSchema,
    pipeline: name(200).optional().describe('Pipeline or job name; defaults to run.name.'),
    canceled: z.boolean().optional().describe('pipeline.failed only: the run was aborted.'),
    failures: z
      .array(z.object({ name: name(200), url: z.url().optional() }))
      .max(100)
      .optional()
      .describe('Failing stages or steps.'),
  })
  .describe('A pipeline run that finished.');

const TestDataIn = z
  .object({
    ...common,
    summary: ChangegateSummarySchema.optional(),
    reports: z.array(ChangegateReportSchema).max(50).default([]),
  })
  .describe('Test results that belong to a deployment.');

const timestamp = z.iso
  .datetime({ offset: true })
  .describe('When the sender created the message (ISO 8601).');

/** The body schema, discriminated on `type`. */
export const ChangegateWebhookSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.enum([
        'deployment.requested',
        'deployment.started',
        'deployment.succeeded',
        'deployment.failed',
      ]),
      timestamp,
      data: DeploymentDataIn,
    }),
    z.object({
      type: z.enum(['pipeline.succeeded', 'pipeline.failed']),
      timestamp,
      data: PipelineDataIn,
    }),
    z.object({ type: z.literal('test.reported'), timestamp, data: TestDataIn }),
    z.object({
      type: z.literal('ping'),
      timestamp: timestamp.optional(),
      data: z.unknown().optional(),
    }),
  ])
  .describe('changegate webhook body (Standard Webhooks payload).');

export type ChangegateWebhook = z.output<typeof ChangegateWebhookSchema>;
