import { z } from 'zod';
import { captureRaw, type NormalizedEvent } from '../../events/build.js';
import { PayloadError } from '../../errors.js';
import { findChangeNumber } from '../change-reference.js';
import { parsePayload } from '../parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../types.js';
import { isCheckRequest } from './verify.js';

/**
 * Azure DevOps has two request shapes on one route:
 * - an Invoke REST API check / InvokeRESTAPI task in callback mode (headers `PlanUrl`, `PlanId`,
 *   …, `AuthToken`; the JSON body is whatever the check's author wrote) → `deployment.requested`
 *   with a callback to the plan's events endpoint;
 * - a service hook notification (`{ id, eventType, resource, resourceContainers, … }`) → pipeline
 *   or deployment outcomes, anything else `webhook.received`.
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

const PREFIX = '[changegate/receivers/azure-devops]';
const PROVIDER = 'azure-devops';
const API_VERSION = '7.1';
/** Deeper JSON than this is refused rather than walked (the redaction below recurses). */
const MAX_DEPTH = 64;

// ---------------------------------------------------------------- helpers

/** An Azure macro that did not expand (`$(ChangeNumber)` when the variable is not defined). */
const UNEXPANDED = /\$\([^)]*\)/;

/** A string, or a number as a string; empty and unexpanded values count as absent. */
const text = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .transform((v) => (v === '' || UNEXPANDED.test(v) ? undefined : v))
  .optional()
  .catch(undefined);

const httpUrl = (value: string | undefined): string | undefined =>
  value && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol) ? value : undefined;

const key = (project: string, unit: string) => `${PROVIDER}/${project}/${unit}`;

/** Drop every `AuthToken` key and every copy of the token itself, at any depth. */
function redact(value: unknown, token: string, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new PayloadError('too_deep', `${PREFIX} body nested too deeply`);
  if (typeof value === 'string') return value.includes(token) ? '[redacted]' : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, token, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.toLowerCase() !== 'authtoken') out[k] = redact(v, token, depth + 1);
  }
  return out;
}

// ---------------------------------------------------------------- (a) check

const CheckBodySchema = z.object({
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

function header(headers: Headers, name: string): string {
  const value = headers.get(name)?.trim();
  if (!value || UNEXPANDED.test(value)) {
    throw new PayloadError(`missing_header:${name}`, `${PREFIX} check header ${name} missing`);
  }
  return value;
}

/** `{PlanUrl}{ProjectId}/_apis/distributedtask/hubs/{HubName}/plans/{PlanId}/events`. */
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
  return new URL(`${path}?api-version=${API_VERSION}`, root).toString();
}

async function normalizeCheck(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  const h = request.headers;
  const [planUrl, projectId, hubName, planId, jobId, taskInstanceId, authToken] = [
    'PlanUrl',
    'ProjectId',
    'HubName',
    'PlanId',
    'JobId',
    'TaskInstanceId',
    'AuthToken',
  ].map((name) => header(h, name)) as [string, string, string, string, string, string, string];
  const timelineId = h.get('timelineid')?.trim();
  const url = planEventsUrl(planUrl, projectId, hubName, planId);

  const json = request.json;
  const raw = redact(json, authToken);
  // The body is the check author's: anything that is not an object counts as empty.
  const isObject = json !== null && typeof json === 'object' && !Array.isArray(json);
  const body = CheckBodySchema.parse(isObject ? json : {});
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

// ---------------------------------------------------------------- (b) service hooks

const opt = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const named = opt(z.object({ name: text, displayName: text, id: text }));
const links = opt(z.object({ web: opt(z.object({ href: text })) }));

const EnvelopeSchema = z.object({
  id: z.string().min(1),
  eventType: z.string().min(1),
  resource: z.record(z.string(), z.unknown()).catch({}),
  resourceContainers: opt(z.object({ project: opt(z.object({ id: text })) })),
});

const BuildSchema = z.object({
  id: z.union([z.number(), z.string()]).transform(String),
  buildNumber: text,
  status: text,
  result: text,
  url: text,
  _links: links,
  sourceBranch: text,
  sourceVersion: text,
  sourceGetVersion: text,
  definition: named,
  project: named,
  requestedFor: named,
  lastChangedBy: named,
});

const RunSchema = z.object({
  id: z.union([z.number(), z.string()]).transform(String),
  name: text,
  state: text,
  result: text,
  _links: links,
  pipeline: named,
});

const ReleaseEnvSchema = z.object({
  name: z.string().min(1),
  status: text,
  releaseId: text,
  release: opt(z.object({ id: text, name: text, url: text, _links: links })),
});

type Outcome = 'succeeded' | 'failed' | 'canceled';

/** Azure results → ours. partiallySucceeded counts as success: Azure runs the next stages too. */
function outcomeOf(result: string | undefined): Outcome | undefined {
  switch (result?.toLowerCase()) {
    case 'succeeded':
    case 'partiallysucceeded':
      return 'succeeded';
    case 'failed':
    case 'rejected':
      return 'failed';
    case 'canceled':
    case 'cancelled':
    case 'stopped':
      return 'canceled';
    default:
      return undefined;
  }
}

type Origin = {
  provider: typeof PROVIDER;
  project: string;
  event: string;
  deliveryId: string;
  raw: ReturnType<typeof captureRaw>;
};

function pipelineEvent(
  origin: Origin,
  outcome: Outcome,
  unit: { runId: string; runName?: string | undefined; url?: string | undefined },
  fields: {
    pipeline: string;
    commit?: { sha?: string; ref?: string };
    actor?: string | undefined;
    failures?: { name: string }[];
  },
): NormalizedEvent {
  const k = key(origin.project, unit.runId);
  return {
    type:
      outcome === 'succeeded'
        ? 'dev.changegate.pipeline.succeeded'
        : 'dev.changegate.pipeline.failed',
    key: k,
    subject: k,
    data: {
      ...origin,
      run: {
        id: unit.runId,
        ...(unit.url ? { url: unit.url } : {}),
        ...(unit.runName ? { name: unit.runName } : {}),
      },
      pipeline: fields.pipeline,
      commit: fields.commit ?? {},
      ...(fields.actor ? { actor: fields.actor } : {}),
      status: outcome,
      failures: outcome === 'succeeded' ? [] : (fields.failures ?? []),
    },
  };
}

function received(origin: Origin, unit: string, action: string): NormalizedEvent {
  const k = key(origin.project, unit);
  return {
    type: 'dev.changegate.webhook.received',
    key: k,
    subject: k,
    data: { ...origin, action },
  };
}

/** `LG:refs/heads/main:<sha>` (older build payloads) → ref and sha. */
function splitGetVersion(v: string | undefined): { ref?: string; sha?: string } {
  const m = v ? /^LG:(.+):([0-9a-f]{7,64})$/i.exec(v) : null;
  return m ? { ref: m[1] as string, sha: m[2] as string } : {};
}

function hookEvent(envelope: z.output<typeof EnvelopeSchema>, base: Omit<Origin, 'project'>) {
  const resource = envelope.resource;
  const projectOf = (name?: string) =>
    name ?? envelope.resourceContainers?.project?.id ?? 'unknown';

  switch (envelope.eventType) {
    case 'build.complete': {
      const b = parsePayload(BuildSchema, resource, PREFIX);
      const origin = { ...base, project: projectOf(b.project?.name) };
      // Old (XAML-era) payloads put the outcome in `status`; current ones in `result`.
      const outcome = outcomeOf(b.result ?? b.status);
      if (!outcome) return received(origin, b.id, `build:${b.status ?? 'unknown'}`);
      const legacy = splitGetVersion(b.sourceGetVersion);
      const sha = b.sourceVersion ?? legacy.sha;
      const ref = b.sourceBranch ?? legacy.ref;
      return pipelineEvent(
        origin,
        outcome,
        { runId: b.id, runName: b.buildNumber, url: httpUrl(b._links?.web?.href ?? b.url) },
        {
          pipeline: b.definition?.name ?? 'build',
          commit: { ...(sha ? { sha } : {}), ...(ref ? { ref } : {}) },
          actor: b.requestedFor?.displayName ?? b.lastChangedBy?.displayName,
        },
      );
    }
    case 'ms.vss-pipelines.run-state-changed-event':
    case 'ms.vss-pipelines.stage-state-changed-event': {
      const isStage = envelope.eventType.includes('stage');
      const run = parsePayload(z.object({ run: RunSchema }), resource, PREFIX).run;
      const stage = isStage ? named.parse(resource.stage) : undefined;
      const state = isStage
        ? text.parse((resource.stage as { state?: unknown })?.state)
        : run.state;
      const result = isStage
        ? text.parse((resource.stage as { result?: unknown })?.result)
        : run.result;
      const pipelineName = named.parse(resource.pipeline)?.name ?? run.pipeline?.name ?? 'pipeline';
      const origin = { ...base, project: projectOf() };
      const outcome = state?.toLowerCase() === 'completed' ? outcomeOf(result) : undefined;
      const what = isStage ? `stage:${stage?.name ?? 'unknown'}` : 'run';
      if (!outcome) return received(origin, run.id, `${what}:${state ?? 'unknown'}`);
      const stageName = stage?.displayName ?? stage?.name;
      return pipelineEvent(
        origin,
        outcome,
        { runId: run.id, runName: run.name, url: httpUrl(run._links?.web?.href) },
        {
          // A stage is reported as its own pipeline unit, `<pipeline>/<stage>`, on the run's key.
          pipeline: isStage && stageName ? `${pipelineName}/${stageName}` : pipelineName,
          failures: stageName ? [{ name: stageName }] : [],
        },
      );
    }
    case 'ms.vss-release.deployment-completed-event': {
      const { environment: env } = parsePayload(
        z.object({ environment: ReleaseEnvSchema }),
        resource,
        PREFIX,
      );
      const origin = { ...base, project: projectOf(named.parse(resource.project)?.name) };
      const releaseId =
        env.release?.id ?? named.parse(resource.release)?.id ?? env.releaseId ?? envelope.id;
      const outcome = outcomeOf(env.status);
      const deploymentId = `${releaseId}-${env.name}`;
      if (!outcome) return received(origin, deploymentId, `deployment:${env.status ?? 'unknown'}`);
      const k = key(origin.project, deploymentId);
      const url = httpUrl(env.release?._links?.web?.href ?? env.release?.url);
      return {
        type:
          outcome === 'succeeded'
            ? 'dev.changegate.deployment.succeeded'
            : 'dev.changegate.deployment.failed',
        key: k,
        subject: k,
        data: {
          ...origin,
          environment: env.name,
          deploymentId,
          correlationId: k,
          run: {
            id: releaseId,
            ...(url ? { url } : {}),
            ...(env.release?.name ? { name: env.release.name } : {}),
          },
          commit: {},
          labels: outcome === 'canceled' ? ['canceled'] : [],
          emergency: false,
        },
      } satisfies NormalizedEvent;
    }
    default:
      return received({ ...base, project: projectOf() }, envelope.id, envelope.eventType);
  }
}

function normalizeServiceHook(request: VerifiedRequest, ctx: NormalizeContext): Normalized {
  const envelope = parsePayload(EnvelopeSchema, request.json, PREFIX);
  const event = hookEvent(envelope, {
    provider: PROVIDER,
    event: envelope.eventType,
    deliveryId: request.deliveryId,
    raw: captureRaw(request.json, request.body.byteLength, ctx.rawMaxBytes),
  });
  return { kind: 'events', events: [event] };
}

/**
 * Normalize an Azure DevOps delivery (check or service hook, told apart by the check headers).
 * The check's `AuthToken` leaves only sealed (`callback.sealed`), never in `raw` or `params`.
 * @throws PayloadError with a machine-readable reason when a required header or field is missing.
 */
export async function normalize(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  return isCheckRequest(request.headers)
    ? normalizeCheck(request, ctx)
    : normalizeServiceHook(request, ctx);
}
