import { ChangegateWebhookSchema } from '../../receivers/changegate-format.js';
import { CheckBodySchema } from '../../providers/azure-devops/receiver/check.js';
import { ServiceNowMessageSchema } from '../../providers/servicenow/receiver/format.js';
import { fromZod, type Json } from './json.js';

/**
 * `components.schemas`: the answer bodies of the `/hooks` routes and the request bodies they read.
 * The bodies changegate owns come from their zod schemas; provider payloads are open objects.
 *
 * @module
 */

/** The scalar check body fields the Azure DevOps normalizer reads; `labels` is described apart. */
const CHECK_BODY_FIELDS = Object.keys(CheckBodySchema.shape).filter((k) => k !== 'labels');

/** The schemas every route refers to by name. */
export const SCHEMAS: Json = {
  Error: {
    type: 'object',
    description:
      'Every error answer (http/errors.ts). `reason` is machine-readable: for 400 e.g. `invalid_json`, `missing_field:data.number`, `missing_header:PlanId`; for other statuses it repeats `error`. Routes that do not exist answer without `reason`.',
    required: ['error', 'message'],
    properties: {
      error: {
        type: 'string',
        enum: [
          'verification_failed',
          'invalid_payload',
          'not_found',
          'payload_too_large',
          'bus_unavailable',
          'rate_limited',
          'internal',
        ],
      },
      reason: { type: 'string' },
      message: { type: 'string', description: 'Short, prefixed, human-readable.' },
    },
  },
  Accepted: {
    type: 'object',
    description: 'Published: the events are acknowledged by Kafka.',
    required: ['status', 'ids', 'types'],
    properties: {
      status: { const: 'accepted' },
      ids: { type: 'array', items: { type: 'string' }, description: 'CloudEvent ids.' },
      types: { type: 'array', items: { type: 'string' }, description: 'CloudEvent types.' },
    },
  },
  AzureCheckAccepted: {
    type: 'object',
    description:
      'Answer to an Invoke REST API check: acknowledged within 3 s, decided later by the plan events callback.',
    required: ['status', 'deliveryId', 'correlationId'],
    properties: {
      status: { const: 'accepted' },
      deliveryId: { type: 'string', description: '`check:<PlanId>:<TaskInstanceId>`' },
      correlationId: { type: 'string' },
    },
  },
  Duplicate: {
    type: 'object',
    description: 'This delivery id was accepted before; nothing is published again.',
    required: ['status', 'deliveryId'],
    properties: { status: { const: 'duplicate' }, deliveryId: { type: 'string' } },
  },
  Pong: {
    type: 'object',
    description: 'A ping / connectivity test: verified, published nowhere.',
    required: ['status'],
    properties: { status: { const: 'pong' } },
  },
  ProviderPayload: {
    type: 'object',
    description:
      'The provider’s own JSON payload, passed through; changegate reads only the fields its normalizer needs and keeps the rest in `data.raw`.',
    additionalProperties: true,
  },
  ChangegateWebhook: fromZod(ChangegateWebhookSchema),
  ServiceNowMessage: {
    ...fromZod(ServiceNowMessageSchema),
    description:
      'The outbound message of the changegate business rule (deploy/servicenow): `data` values are `GlideRecord.getValue()` strings (null when empty); extra string fields are kept.',
  },
  AzureDevopsServiceHook: {
    type: 'object',
    description:
      'A service hook notification (Web Hooks consumer): `build.complete`, `ms.vss-pipelines.run-state-changed-event`, `ms.vss-pipelines.stage-state-changed-event`, `ms.vss-release.deployment-completed-event`; other event types are published as webhook.received.',
    required: ['id', 'eventType'],
    properties: {
      id: {
        type: 'string',
        minLength: 1,
        maxLength: 200,
        description: 'Notification id: the dedupe key.',
      },
      eventType: { type: 'string', minLength: 1 },
      resource: { type: 'object', additionalProperties: true },
      resourceContainers: { type: 'object', additionalProperties: true },
    },
    additionalProperties: true,
  },
  AzureDevopsCheckBody: {
    type: 'object',
    description:
      'The body of an Invoke REST API check, written by the check’s author (deploy/ci/azure-devops). Values that Azure left unexpanded (`$(Var)`) count as absent. `environment` (or `stage`) is required; project ← `ProjectId` header, runId ← `BuildId` header when absent.',
    properties: {
      ...Object.fromEntries(CHECK_BODY_FIELDS.map((k) => [k, { type: ['string', 'number'] }])),
      labels: {
        type: ['array', 'string'],
        items: { type: 'string' },
        description: 'A list, or a comma-separated string.',
      },
    },
    additionalProperties: true,
  },
};
