import type { CicdOrigin } from '../../events/cicd.js';
import type { DeploymentEventType } from '../../events/types.js';
import { captureRaw, type NormalizedEvent } from '../../events/index.js';
import { PayloadError } from '../../errors.js';
import { findChangeNumber } from '../change-reference.js';
import { received, unit } from '../event-unit.js';
import { eventAndObject, parsePayload } from '../parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../types.js';
import { gitlabApprovalUrl, gitlabInstanceUrl } from './callback-url.js';
import { AnyPayload, DeploymentPayload, JobPayload, PipelinePayload } from './payloads.js';

/**
 * GitLab delivery → changegate events. Pure: the same request and context give the same events.
 * GitLab's "Test" button sends an ordinary payload with the ordinary `X-Gitlab-Event` header, so
 * test deliveries are normalized like any other event.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/gitlab]';
const PROVIDER = 'gitlab';
const SHA = /^[0-9a-f]{40,64}$/i;
/** CI/CD variables a pipeline may set to name its change request explicitly. */
const CHANGE_VARIABLES = new Set([
  'CHANGE_NUMBER',
  'CHANGEGATE_CHANGE',
  'CHANGE_REQUEST',
  'SERVICENOW_CHANGE',
]);

type Origin = CicdOrigin & { provider: typeof PROVIDER };

/** Deployment `status` → event. approved/rejected/created stay webhook.received. */
const DEPLOYMENT_STATUS: Record<string, DeploymentEventType> = {
  blocked: 'dev.changegate.deployment.requested',
  running: 'dev.changegate.deployment.started',
  success: 'dev.changegate.deployment.succeeded',
  failed: 'dev.changegate.deployment.failed',
  canceled: 'dev.changegate.deployment.failed',
};

const PIPELINE_STATUS: Record<string, 'succeeded' | 'failed' | 'canceled'> = {
  success: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
};

function optional<K extends string>(key: K, value: string | null | undefined) {
  return (value ? { [key]: value } : {}) as Partial<Record<K, string>>;
}

/**
 * A change number a pipeline names: a CI variable (`CHANGE_NUMBER=CHG0012345`) first, then a
 * commit trailer (`Change: CHG0012345`) or a CHG number in the commit message.
 */
export function pipelineChangeNumber(p: PipelinePayload): string | undefined {
  const variables = (p.object_attributes.variables ?? [])
    .filter((v) => CHANGE_VARIABLES.has(v.key.toUpperCase()))
    .map((v) => v.value);
  return findChangeNumber(...variables) ?? findChangeNumber(p.commit?.message);
}

function deployment(json: unknown, origin: Origin, instanceHeader: string | null) {
  const p = parsePayload(DeploymentPayload, json, PREFIX);
  // GitLab's deployment id is per deployment *job run*: retrying the job creates a new
  // deployment, hence a new correlation id and, unless the pipeline names a CR explicitly
  // (see changeNumber), a new change request. Only an explicit CHG number links the two.
  const deploymentId = p.deployment_id;
  const type = DEPLOYMENT_STATUS[p.status];
  if (!type) return received(origin, deploymentId, p.status);

  const fromUrl = p.commit_url?.split('/').pop();
  const sha = fromUrl && SHA.test(fromUrl) ? fromUrl : p.short_sha;
  const base =
    type === 'dev.changegate.deployment.requested'
      ? gitlabInstanceUrl(instanceHeader, p.project.web_url, p.project.path_with_namespace)
      : undefined;
  return {
    type,
    ...unit(origin, deploymentId),
    data: {
      ...origin,
      environment: p.environment,
      deploymentId,
      correlationId: `${PROVIDER}/${origin.project}/${deploymentId}`,
      ...(p.deployable_id
        ? { run: { id: p.deployable_id, ...optional('url', p.deployable_url) } }
        : {}),
      commit: {
        ...optional('sha', sha),
        ...optional('ref', p.ref),
        ...optional('message', p.commit_title),
      },
      ...optional('actor', p.user?.username ?? p.user?.name),
      ...optional('changeNumber', findChangeNumber(p.commit_title)),
      ...optional('description', p.commit_title),
      ...(base
        ? {
            // The approval URL is not a credential: the worker authenticates with its own token.
            callback: {
              kind: 'gitlab' as const,
              url: gitlabApprovalUrl(base, p.project.id, deploymentId),
              params: { projectId: p.project.id, deploymentId, environment: p.environment },
            },
          }
        : {}),
    },
  } satisfies NormalizedEvent;
}

function pipeline(json: unknown, origin: Origin): NormalizedEvent {
  const p = parsePayload(PipelinePayload, json, PREFIX);
  const a = p.object_attributes;
  const id = `pipeline-${a.id}`;
  const status = PIPELINE_STATUS[a.status];
  if (!status) return received(origin, id, a.status);

  const builds = p.builds ?? [];
  const environments = [...new Set(builds.flatMap((b) => b.environment?.name ?? []))];
  const webUrl = p.project.web_url.replace(/\/+$/, '');
  return {
    type:
      status === 'succeeded'
        ? 'dev.changegate.pipeline.succeeded'
        : 'dev.changegate.pipeline.failed',
    ...unit(origin, id),
    data: {
      ...origin,
      run: { id: a.id, ...optional('url', a.url), ...optional('name', a.name) },
      pipeline: a.name || (a.ref ? `${a.ref} #${a.iid ?? a.id}` : id),
      // Only when the pipeline deploys to exactly one environment is it unambiguous.
      ...(environments.length === 1 ? { environment: environments[0] } : {}),
      commit: {
        ...optional('sha', a.sha),
        ...optional('ref', a.ref),
        ...optional('message', p.commit?.message),
      },
      ...optional('actor', p.user?.username ?? p.user?.name),
      ...optional('changeNumber', pipelineChangeNumber(p)),
      status,
      failures: builds
        .filter((b) => b.status === 'failed')
        .map((b) => ({ name: b.name, url: `${webUrl}/-/jobs/${b.id}` })),
    },
  };
}

function projectOf(json: unknown): string {
  const p = parsePayload(AnyPayload, json, PREFIX);
  const project =
    p.project?.path_with_namespace || p.project_name || p.path_with_namespace || p.full_path;
  if (!project) {
    throw new PayloadError(
      'missing_field:project.path_with_namespace',
      `${PREFIX} missing field project.path_with_namespace`,
    );
  }
  return project;
}

/**
 * Normalize a verified GitLab delivery.
 * @throws PayloadError when a header or field the mapping needs is missing or malformed.
 */
export async function normalizeGitlab(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  const { event, json } = eventAndObject(request, 'x-gitlab-event', PREFIX);
  const origin: Origin = {
    provider: PROVIDER,
    project: projectOf(json),
    event,
    deliveryId: request.deliveryId,
    raw: captureRaw(json, request.body.byteLength, ctx.rawMaxBytes),
  };

  let normalized: NormalizedEvent;
  switch (event) {
    case 'Deployment Hook':
      normalized = deployment(json, origin, request.headers.get('x-gitlab-instance'));
      break;
    case 'Pipeline Hook':
      normalized = pipeline(json, origin);
      break;
    case 'Job Hook': {
      const job = parsePayload(JobPayload, json, PREFIX);
      normalized = received(origin, `pipeline-${job.pipeline_id}`, job.build_status);
      break;
    }
    default: {
      const any = parsePayload(AnyPayload, json, PREFIX);
      normalized = received(
        origin,
        any.object_kind || event.toLowerCase().replace(/\s+/g, '-'),
        any.object_attributes?.action ?? any.event_name,
      );
    }
  }
  return { kind: 'events', events: [normalized] };
}
