import type { CheckHeader } from '../../receivers/azure-devops/check.js';
import { header, param, ref, resp, type Json } from './json.js';

/**
 * `paths` entries of the signed `/hooks` routes: per provider, the headers it authenticates and
 * dedupes by, the body it sends, and every status the route answers.
 *
 * @module
 */

const STANDARD_WEBHOOK_HEADERS = ['webhookId', 'webhookTimestamp', 'webhookSignature'].map(param);

/** The headers an Invoke REST API check sends by default, and the variable each carries. */
const CHECK_HEADERS: Record<CheckHeader, string> = {
  PlanUrl: '$(system.CollectionUri)',
  ProjectId: '$(system.TeamProjectId)',
  HubName: '$(system.HostType)',
  PlanId: '$(system.PlanId)',
  JobId: '$(system.JobId)',
  TaskInstanceId: '$(system.TaskInstanceId)',
  AuthToken: '$(system.AccessToken)',
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

/** `paths` entries of the webhook routes. */
export const HOOK_PATHS: Json = {
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
      'Events read: `Pipeline Hook` (a deploy job in `builds[]` with status `manual` registers a gate), `Deployment Hook` (running, success, failed, canceled), `Job Hook`; any other verified event, or a known one that cannot be read, is published as webhook.received (202). Authenticity: the Standard-Webhooks signature of a signing token (`sources.gitlab.signingTokens`) when sent, else `X-Gitlab-Token` (`sources.gitlab.tokens`). Dedupe: `Idempotency-Key`, `webhook-id`, `X-Gitlab-Event-UUID`, `X-Gitlab-Webhook-UUID`, else a hash of the body.',
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
      description:
        "Published (service hook: Accepted; check: AzureCheckAccepted): on Kafka with acks=all, or fsynced in this receiver's spool (`changegate-durability`).",
      headers: { 'changegate-durability': { $ref: '#/components/headers/Durability' } },
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
};
