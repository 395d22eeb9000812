import { z } from 'zod';
import { captureRaw, type NormalizedEvent } from '../../../events/build.js';
import { PayloadError } from '../../../errors.js';
import { findChangeNumber } from '../../../receivers/change-reference.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { PREFIX, PROVIDER, UNEXPANDED, httpUrl, key, text } from './fields.js';

/**
 * An Invoke REST API check / InvokeRESTAPI task in callback mode (headers `PlanUrl`, `PlanId`,
 * …, `AuthToken`; the JSON body is whatever the check's author wrote) → `deployment.requested`
 * with a callback to the plan's events endpoint.
 *
 * Recommended check body (every field optional; a `$(Var)` Azure left unexpanded counts as absent):
 * ```json
 * {"environment":"$(Environment.Name)","project":"$(System.TeamProject)/$(Build.Repository.Name)",
 *  "pipeline":"$(Build.DefinitionName)","runId":"$(Build.BuildId)","runName":"$(Build.BuildNumber)",
 *  "runUrl":"$(System.CollectionUri)$(System.TeamProject)/_build/results?buildId=$(Build.BuildId)",
 *  "sha":"$(Build.SourceVersion)","ref":"$(Build.SourceBranch)","actor":"$(Build.RequestedFor)",
 *  "changeNumber":"$(ChangeNumber)","emergency":"$(Emergency)"}
 * ```
 * Fallbacks: project ← `ProjectId` header; runId ← `BuildId` header; environment ← `stage`.
 * For classic release gates send `"runId":"$(Release.ReleaseId)"` so the deployment id matches
 * `ms.vss-release.deployment-completed-event` (`<releaseId>-<environment>`).
 *
 * @module
 */

/** "The token is valid for 48 hours" (MicrosoftDocs/azure-devops-docs invoke-checks.md). */
const TOKEN_TTL_MS = 48 * 3600_000;
/** Deeper JSON than this is refused rather than walked (the redaction below recurses). */
const MAX_DEPTH = 64;

/** The headers a check must carry: where to call back, and with which job token. */
export const CHECK_HEADERS = [
  'PlanUrl',
  'ProjectId',
  'HubName',
  'PlanId',
  'JobId',
  'TaskInstanceId',
  'AuthToken',
] as const;

/** One of {@link CHECK_HEADERS}. */
export type CheckHeader = (typeof CHECK_HEADERS)[number];

/** The check body: the fields changegate reads, each optional (the OpenAPI document lists them). */
export const CheckBodySchema = z.object({
  environment: text,
  stage: text,
  project: text,
  pipeline: text,
  runId: text,
  runName: text,
  runUrl: text,
  attempt: text,
  sha: text,
  ref: text,
  commitMessage: text,
  actor: text,
  changeNumber: text,
  description: text,
  emergency: text,
  labels: z
    .union([z.array(z.string()), z.string()])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()))
    .transform((v) => v.filter((s) => s && !UNEXPANDED.test(s)))
    .catch([]),
});

const REDACTED = '[redacted]';

/** Every form the token can take inside a body: as sent, URL-encoded, base64 (alone or as Basic). */
function tokenForms(token: string): string[] {
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');
  return [...new Set([token, encodeURIComponent(token), b64(token), b64(`:${token}`)])].sort(
    (a, b) => b.length - a.length,
  );
}

function scrub(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/**
 * Drop every `AuthToken` key and cut every copy of the token (any form, in keys and values) at
 * any depth. Runs before anything is read from the body, so no field can carry the token on.
 */
function redact(value: unknown, forms: readonly string[], depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new PayloadError('too_deep', `${PREFIX} body nested too deeply`);
  if (typeof value === 'string') return scrub(value, forms);
  if (Array.isArray(value)) return value.map((v) => redact(v, forms, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.toLowerCase() !== 'authtoken') out[scrub(k, forms)] = redact(v, forms, depth + 1);
  }
  return out;
}

/** When the job token stops working: its JWT `exp`, else 48 h from the check call. */
function tokenExpiry(token: string, now: Date): Date {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      exp?: unknown;
    };
    if (typeof payload.exp === 'number' && Number.isFinite(payload.exp)) {
      return new Date(Math.min(payload.exp * 1000, now.getTime() + TOKEN_TTL_MS));
    }
  } catch {
    // Not a JWT: fall back to the documented lifetime.
  }
  return new Date(now.getTime() + TOKEN_TTL_MS);
}

function header(headers: Headers, name: string): string {
  const value = headers.get(name)?.trim();
  if (!value || UNEXPANDED.test(value)) {
    throw new PayloadError(`missing_header:${name}`, `${PREFIX} check header ${name} missing`);
  }
  return value;
}

/**
 * `{PlanUrl}{ProjectId}/_apis/distributedtask/hubs/{HubName}/plans/{PlanId}/events`, without an
 * api-version: the callback client picks it per host (Services or Server).
 */
export function planEventsUrl(
  planUrl: string,
  projectId: string,
  hubName: string,
  planId: string,
): string {
  const base = httpUrl(planUrl);
  if (!base) throw new PayloadError('invalid_header:PlanUrl', `${PREFIX} PlanUrl is not a URL`);
  // PlanUrl is the collection URI and usually ends with '/'; without one, URL resolution would
  // replace its last segment (the organization) instead of appending to it.
  const root = base.endsWith('/') ? base : `${base}/`;
  const [project, hub, plan] = [projectId, hubName, planId].map(encodeURIComponent);
  const path = `${project}/_apis/distributedtask/hubs/${hub}/plans/${plan}/events`;
  return new URL(path, root).toString();
}

/**
 * Normalize a check into one `deployment.requested` whose callback (the plan events URL, the job
 * token sealed) completes the check, and the reply Azure needs within 3 s.
 * @throws PayloadError when a check header or the environment is missing.
 */
export async function normalizeCheck(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  const h = request.headers;
  const [planUrl, projectId, hubName, planId, jobId, taskInstanceId, authToken] = CHECK_HEADERS.map(
    (name) => header(h, name),
  ) as [string, string, string, string, string, string, string];
  const timelineId = h.get('timelineid')?.trim();
  const url = planEventsUrl(planUrl, projectId, hubName, planId);

  // Everything below reads the redacted body only: a token pasted into `description` or any
  // other field must not reach the event, the CR or a log.
  const raw = redact(request.json, tokenForms(authToken));
  // The body is the check author's: anything that is not an object counts as empty.
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const body = CheckBodySchema.parse(isObject ? raw : {});
  const environment = body.environment ?? body.stage;
  if (!environment) {
    throw new PayloadError(
      'missing_field:environment',
      `${PREFIX} check body needs "environment" (e.g. "$(Environment.Name)")`,
    );
  }
  const project = body.project ?? projectId;
  const runId = body.runId ?? text.parse(h.get('buildid') ?? undefined);
  // Re-evaluations of one check carry the same run and environment: one deployment, one CR.
  const deploymentId = `${runId ?? planId}-${environment}`;
  const attempt = Number(body.attempt);
  const runUrl = httpUrl(body.runUrl);
  const changeNumber =
    (body.changeNumber && findChangeNumber(body.changeNumber)) ??
    findChangeNumber(body.commitMessage, body.description);
  const k = key(project, deploymentId);

  const event: NormalizedEvent = {
    type: 'dev.changegate.deployment.requested',
    key: k,
    subject: k,
    data: {
      provider: PROVIDER,
      project,
      event: 'invoke-rest-api-check',
      deliveryId: request.deliveryId,
      raw: captureRaw(raw, request.body.byteLength, ctx.rawMaxBytes),
      environment,
      deploymentId,
      correlationId: k,
      ...(runId
        ? {
            run: {
              id: runId,
              ...(runUrl ? { url: runUrl } : {}),
              ...((body.runName ?? body.pipeline) ? { name: body.runName ?? body.pipeline } : {}),
              ...(Number.isInteger(attempt) && attempt > 0 ? { attempt } : {}),
            },
          }
        : {}),
      commit: {
        ...(body.sha ? { sha: body.sha } : {}),
        ...(body.ref ? { ref: body.ref } : {}),
        ...(body.commitMessage ? { message: body.commitMessage } : {}),
      },
      ...(body.actor ? { actor: body.actor } : {}),
      ...(changeNumber ? { changeNumber } : {}),
      labels: body.labels,
      emergency: body.emergency?.toLowerCase() === 'true',
      ...(body.description ? { description: body.description } : {}),
      callback: {
        kind: 'azure-devops',
        url,
        // The job token is a credential scoped to this run: only workers holding the key open it.
        sealed: await ctx.seal({ authToken }),
        params: {
          planId,
          jobId,
          taskInstanceId,
          hubName,
          projectId,
          ...(timelineId ? { timelineId } : {}),
          tokenExpiresAt: tokenExpiry(authToken, ctx.now).toISOString(),
        },
      },
    },
  };
  // Azure fails the check unless it is acknowledged within 3 s; the decision comes later.
  return {
    kind: 'events',
    events: [event],
    reply: { status: 'accepted', deliveryId: request.deliveryId, correlationId: k },
  };
}
