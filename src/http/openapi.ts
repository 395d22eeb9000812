import { z } from 'zod';
import { ChangegateWebhookSchema } from '../receivers/changegate-format.js';
import { ServiceNowMessageSchema } from '../receivers/servicenow/format.js';

/**
 * The OpenAPI 3.1 document of the receiver's HTTP routes, generated from code: the bodies we own
 * (the changegate webhook format, the ServiceNow outbound message) come from their zod schemas,
 * provider payloads are open objects, and every status a route answers is listed with the error
 * body `http/errors.ts` writes. Served at `/openapi.json`, published as `schemas/openapi.json`.
 *
 * The order of checks on every `/hooks` route (ingest.ts) decides which status wins: body over
 * the limit → 413; source not configured → 404; signature → 401; delivery id seen → 200;
 * JSON/shape → 400; Kafka did not acknowledge in time → 503; else 202.
 *
 * @module
 */

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const resp = (name: string) => ({ $ref: `#/components/responses/${name}` });
const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** zod → JSON Schema as a sender writes it (`io: 'input'`), without the dialect marker. */
function fromZod(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

const header = (
  name: string,
  description: string,
  schema: Json = { type: 'string' },
  required = true,
): Json => ({ name, in: 'header', required, description, schema });

const STANDARD_WEBHOOK_HEADERS = ['webhookId', 'webhookTimestamp', 'webhookSignature'].map(param);

function errorBody(codes: string[], description: string): Json {
  return {
    description,
    content: {
      'application/json': {
        schema: {
          allOf: [ref('Error')],
          properties: { error: { enum: codes } },
        },
      },
    },
  };
}

/** The check body fields azure-devops/normalize.ts reads (CheckBodySchema). */
const CHECK_BODY_FIELDS = [
  'environment',
  'stage',
  'project',
  'pipeline',
  'runId',
  'runName',
  'runUrl',
  'attempt',
  'sha',
  'ref',
  'commitMessage',
  'actor',
  'changeNumber',
  'description',
  'emergency',
];

/** The headers an Invoke REST API check sends by default, and the variable each carries. */
const CHECK_HEADERS: Record<string, string> = {
  PlanUrl: '$(system.CollectionUri)',
  ProjectId: '$(system.TeamProjectId)',
  HubName: '$(system.HostType)',
  PlanId: '$(system.PlanId)',
  JobId: '$(system.JobId)',
  TaskInstanceId: '$(system.TaskInstanceId)',
  AuthToken: '$(system.AccessToken)',
};

const components: Json = {
  schemas: {
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
  },
  parameters: {
    webhookId: header(
      'webhook-id',
      'Standard Webhooks message id; the same on every retry: the dedupe key.',
      { type: 'string', minLength: 1 },
    ),
    webhookTimestamp: header(
      'webhook-timestamp',
      'Unix seconds of this attempt; more than `ingest.toleranceSeconds` (300) away from now → 401.',
      { type: 'string', pattern: '^\\d{1,12}$' },
    ),
    webhookSignature: header(
      'webhook-signature',
      'Space-separated `v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{raw body}")>` entries, key = base64-decoded secret after `whsec_`. Any matching entry is accepted (rotation).',
      { type: 'string', pattern: '^v1,' },
    ),
    traceparent: header(
      'traceparent',
      'W3C Trace Context; copied into the events (`ce_traceparent`).',
      { type: 'string' },
      false,
    ),
  },
  headers: {
    RetryAfter: {
      description: 'Seconds to wait before redelivering.',
      schema: { type: 'integer' },
    },
  },
  responses: {
    Duplicate: {
      description: 'Already accepted (a redelivery), or a ping. Nothing new is published.',
      content: {
        'application/json': { schema: { oneOf: [ref('Duplicate'), ref('Pong')] } },
      },
    },
    Accepted: {
      description: 'Verified, normalized and acknowledged by Kafka.',
      content: { 'application/json': { schema: ref('Accepted') } },
    },
    BadRequest: errorBody(
      ['invalid_payload'],
      'Not UTF-8, not JSON, or not the shape the route reads (reason names the field or header).',
    ),
    Unauthorized: errorBody(
      ['verification_failed'],
      'Signature, token or Basic auth missing or wrong, or the signed timestamp is outside the replay window.',
    ),
    NotFound: errorBody(
      ['not_found'],
      'No such route, or the source has no secret configured (nothing unsigned is accepted).',
    ),
    TooLarge: errorBody(
      ['payload_too_large'],
      'Body over `ingest.maxBodyBytes` (default 1 MiB); refused before it is read.',
    ),
    Unavailable: {
      ...errorBody(
        ['bus_unavailable'],
        'Kafka did not acknowledge in time; nothing was accepted, redeliver after Retry-After.',
      ),
      headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    },
    TooManyRequests: {
      ...errorBody(
        ['rate_limited'],
        'Only with `ingest.rateLimit`: this source (route + client address) sent more than its budget; refused before the body is read. Retry after Retry-After.',
      ),
      headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    },
    Internal: errorBody(['internal'], 'A bug; the detail is logged, not returned.'),
  },
  securitySchemes: {
    azureBasic: {
      type: 'http',
      scheme: 'basic',
      description:
        'The service hook’s (or the check’s generic service connection’s) username and password, one of `sources.azureDevops.basic`.',
    },
  },
};

interface HookSpec {
  summary: string;
  description: string;
  parameters: Json[];
  body: Json;
  accepted?: Json;
  security?: Json[];
}

function hook({ summary, description, parameters, body, accepted, security }: HookSpec): Json {
  return {
    post: {
      summary,
      description,
      tags: ['webhooks'],
      parameters: [...parameters, param('traceparent')],
      ...(security ? { security } : {}),
      requestBody: { required: true, content: { 'application/json': { schema: body } } },
      responses: {
        '200': resp('Duplicate'),
        '202': accepted ?? resp('Accepted'),
        '400': resp('BadRequest'),
        '401': resp('Unauthorized'),
        '404': resp('NotFound'),
        '413': resp('TooLarge'),
        '429': resp('TooManyRequests'),
        '500': resp('Internal'),
        '503': resp('Unavailable'),
      },
    },
  };
}

const PATHS: Json = {
  '/hooks/github': hook({
    summary: 'GitHub webhook (App or repository/organization hook)',
    description:
      'Events read: `deployment_protection_rule` (gate), `deployment_status`, `workflow_run`, `workflow_job`, `check_suite`; `ping` answers 200; any other verified event is published as webhook.received. Secrets: `sources.github.secrets`.',
    parameters: [
      header('X-Hub-Signature-256', '`sha256=<hex HMAC-SHA256(secret, raw body)>`.', {
        type: 'string',
        pattern: '^sha256=[0-9a-fA-F]{64}$',
      }),
      header('X-GitHub-Delivery', 'Delivery GUID, the dedupe key (missing → 401).', {
        type: 'string',
        minLength: 1,
        maxLength: 200,
      }),
      header('X-GitHub-Event', 'Event name, e.g. `deployment_protection_rule` (missing → 400).'),
    ],
    body: ref('ProviderPayload'),
  }),
  '/hooks/gitlab': hook({
    summary: 'GitLab project or group webhook',
    description:
      'Events read: `Deployment Hook` (status `blocked` registers a gate), `Pipeline Hook`, `Job Hook`; any other verified event is published as webhook.received. Authenticity: the Standard-Webhooks signature of a signing token (`sources.gitlab.signingTokens`) when sent, else `X-Gitlab-Token` (`sources.gitlab.tokens`). Dedupe: `Idempotency-Key`, `webhook-id`, `X-Gitlab-Event-UUID`, `X-Gitlab-Webhook-UUID`, else a hash of the body.',
    parameters: [
      header('X-Gitlab-Event', 'Event name, e.g. `Deployment Hook` (missing → 400).'),
      header(
        'X-Gitlab-Token',
        'The webhook’s secret token (when no signature is sent).',
        undefined,
        false,
      ),
      header(
        'Idempotency-Key',
        'Stable across retries: the preferred dedupe key.',
        undefined,
        false,
      ),
      header('X-Gitlab-Event-UUID', 'Event id (older instances).', undefined, false),
      header('X-Gitlab-Webhook-UUID', 'Request id.', undefined, false),
      header('webhook-id', 'Signing token: message id.', undefined, false),
      header('webhook-timestamp', 'Signing token: unix seconds.', undefined, false),
      header('webhook-signature', 'Signing token: `v1,<base64>` entries.', undefined, false),
    ],
    body: ref('ProviderPayload'),
  }),
  '/hooks/jenkins': hook({
    summary: 'Jenkins shared-library step (changegate format)',
    description:
      "Sent by `changegateGate` (deploy/ci/jenkins); `deployment.requested` with a callback registers a gate that is released by the build’s `input id: 'ChangeGate'`. `type: ping` answers 200. Secrets: `sources.jenkins.secrets` (whsec_).",
    parameters: STANDARD_WEBHOOK_HEADERS,
    body: ref('ChangegateWebhook'),
  }),
  '/hooks/azure-devops': hook({
    summary: 'Azure DevOps Invoke REST API check or service hook',
    description:
      'An Invoke REST API check (recognised by its `PlanId`/`PlanUrl`/`TaskInstanceId`/`AuthToken` headers) registers a gate completed through the plan events API; it is answered within 2.5 s. Anything else is a service hook notification.',
    security: [{ azureBasic: [] }],
    parameters: [
      ...Object.entries(CHECK_HEADERS).map(([name, variable]) =>
        header(
          name,
          `Check only: \`${variable}\`; a check needs all seven (missing → 400).`,
          { type: 'string' },
          false,
        ),
      ),
      header('TimelineId', 'Check only: `$(system.TimelineId)`.', { type: 'string' }, false),
      header('BuildId', 'Check only: fallback for `runId`.', { type: 'string' }, false),
    ],
    body: { anyOf: [ref('AzureDevopsServiceHook'), ref('AzureDevopsCheckBody')] },
    accepted: {
      description: 'Published (service hook: Accepted; check: AzureCheckAccepted).',
      content: {
        'application/json': { schema: { oneOf: [ref('Accepted'), ref('AzureCheckAccepted')] } },
      },
    },
  }),
  '/hooks/generic/{source}': hook({
    summary: 'Any Standard-Webhooks sender (changegate format)',
    description:
      'Secrets: `sources.generic.<source>.secrets`, or `sources.generic["*"]` for any name. A `deployment.requested` with `callback.url` registers a gate decided by a signed POST back to that URL.',
    parameters: [
      {
        name: 'source',
        in: 'path',
        required: true,
        description:
          'Source name; letters, digits, `_`, `-`, 1–64 characters. Unconfigured or invalid names answer 404.',
        schema: { type: 'string' },
      },
      ...STANDARD_WEBHOOK_HEADERS,
    ],
    body: ref('ChangegateWebhook'),
  }),
  '/hooks/servicenow': hook({
    summary: 'ServiceNow business rule (outbound message)',
    description:
      'Sent by the changegate business rules (deploy/servicenow) after a change_request or incident update. `change.updated` goes to the changes topic keyed by CR number; other types to the servicenow topic. Secrets: `sources.servicenow.secrets`.',
    parameters: STANDARD_WEBHOOK_HEADERS,
    body: ref('ServiceNowMessage'),
  }),
  '/healthz': {
    get: {
      summary: 'Liveness: the process serves HTTP',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'Up.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['status'],
                properties: { status: { const: 'ok' } },
              },
            },
          },
        },
      },
    },
  },
  '/readyz': {
    get: {
      summary: 'Readiness: the bus accepts writes',
      tags: ['operations'],
      responses: Object.fromEntries(
        (
          [
            ['200', 'ready', 'Kafka (or the embedded bus) accepts writes.'],
            ['503', 'unavailable', 'The bus cannot take writes; take the pod out of rotation.'],
          ] as const
        ).map(([code, status, description]) => [
          code,
          {
            description,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['status', 'bus'],
                  properties: {
                    status: { const: status },
                    bus: { type: 'string', enum: ['kafka', 'memory'] },
                  },
                },
              },
            },
          },
        ]),
      ),
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'Prometheus text exposition format 0.0.4.',
          content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
        },
      },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This document',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'OpenAPI 3.1',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
  '/asyncapi.json': {
    get: {
      summary: 'AsyncAPI 3.0 document of the Kafka topics (configured names)',
      tags: ['operations'],
      responses: {
        '200': {
          description: 'AsyncAPI 3.0',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  },
};

/**
 * The OpenAPI 3.1 document of the receiver.
 * @param serverUrl where the receiver is reached; defaults to a relative URL (this host).
 * @example app.get('/openapi.json', (c) => c.json(openApiDocument()))
 */
export function openApiDocument(serverUrl = '/'): Json {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'changegate receiver',
      version: '1.0.0',
      description:
        'Signed webhooks in, CloudEvents on Kafka out. Every `/hooks` route verifies over the raw bytes, answers 202 only after Kafka acknowledged the events, 200 for a redelivery or a ping, and 503 with Retry-After when Kafka is unavailable.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: 'webhooks', description: 'Signed deliveries from CI systems and ServiceNow.' },
      { name: 'operations', description: 'Probes, metrics and API documents.' },
    ],
    paths: PATHS,
    components,
  };
}
