import { z } from 'zod';
import { captureRaw, type NormalizedEvent } from '../../../events/build.js';
import { parsePayload } from '../../../receivers/parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { PREFIX, PROVIDER, httpUrl, key, text } from './fields.js';

/**
 * A service hook notification (Web Hooks consumer, `{ id, eventType, resource,
 * resourceContainers, … }`) → pipeline or deployment outcomes; anything else, and runs that are
 * not finished, `webhook.received`.
 *
 * @module
 */

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

/**
 * Normalize a service hook notification into one event; the raw payload is kept as sent.
 * @throws PayloadError when the envelope or a known event's resource lacks what it needs.
 */
export function normalizeServiceHook(request: VerifiedRequest, ctx: NormalizeContext): Normalized {
  const envelope = parsePayload(EnvelopeSchema, request.json, PREFIX);
  const event = hookEvent(envelope, {
    provider: PROVIDER,
    event: envelope.eventType,
    deliveryId: request.deliveryId,
    raw: captureRaw(request.json, request.body.byteLength, ctx.rawMaxBytes),
  });
  return { kind: 'events', events: [event] };
}
