import type { CicdOrigin, Person } from '../../../events/cicd.js';
import type { DeploymentEventType } from '../../../events/types.js';
import { captureRaw, type NormalizedEvent } from '../../../events/index.js';
import { PayloadError } from '../../../errors.js';
import { findChangeNumber } from '../../../receivers/change-reference.js';
import { received, unit } from '../../../receivers/event-unit.js';
import { eventAndObject, parsePayload } from '../../../receivers/parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { gitlabInstanceUrl, gitlabPlayUrl } from './callback-url.js';
import { DeploymentPayload, JobPayload, PipelinePayload } from './payloads.js';

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

/**
 * Deployment Hook `status` → event. GitLab sends the hook only on the transitions to running,
 * success, failed and canceled (gitlab-org/gitlab `app/models/deployment.rb`: `after_transition
 * any => :running` and `any => FINISHED_STATUSES`); newer releases also send `approved` and
 * `rejected` (`EE::Deployment#execute_approval_hooks`), which stay webhook.received. A hook never
 * says `blocked`: a gate starts from the Pipeline Hook instead (see {@link waitingDeployJobs}).
 */
const DEPLOYMENT_STATUS: Record<string, DeploymentEventType> = {
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
 * GitLab puts `[REDACTED]` where it withholds an e-mail (a user without a public e-mail:
 * `User#webhook_email`; gitlab-org/gitlab#344230 shows it in Deployment Hooks): no address.
 */
const REDACTED = '[REDACTED]';

/** The Pipeline Hook's `commit.author` as a person; undefined when it names nobody. */
export function commitAuthor(p: Pick<PipelinePayload, 'commit'>): Person | undefined {
  const git = p.commit?.author;
  const email = git?.email && git.email !== REDACTED ? git.email : undefined;
  const person: Person = { ...optional('name', git?.name), ...optional('email', email) };
  return Object.keys(person).length > 0 ? person : undefined;
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

/**
 * The unit of a GitLab deployment is its deploy *job*: the Pipeline Hook that shows the job
 * waiting knows the job id but not the deployment id, and every Deployment Hook carries both
 * (`deployable_id`). Retrying the job makes a new job and a new deployment, hence a new unit.
 * Deployments without a job (API, `trigger` jobs: `deployable_id` null) fall back to their id.
 */
function unitId(jobId: string | null | undefined, deploymentId: string): string {
  return jobId ? `job-${jobId}` : `deployment-${deploymentId}`;
}

type Build = NonNullable<PipelinePayload['builds']>[number];

/**
 * Deploy jobs the Pipeline Hook shows waiting: status `manual` with an environment they start
 * (`environment.action` absent or `start`; stop/prepare/verify/access jobs deploy nothing). A job
 * held for approval is `manual` (its deployment `blocked`: `Deployment#sync_status_with`); whether
 * GitLab really holds it for an approval is confirmed by the callback client, which approves only
 * a blocked deployment and plays nothing GitLab does not hold.
 */
export function waitingDeployJobs(
  p: PipelinePayload,
): (Build & { environment: { name: string } })[] {
  return (p.builds ?? []).filter(
    (b): b is Build & { environment: { name: string } } =>
      b.status === 'manual' &&
      Boolean(b.environment?.name) &&
      (b.environment?.action ?? 'start') === 'start',
  );
}

function deployment(json: unknown, origin: Origin): NormalizedEvent {
  const p = parsePayload(DeploymentPayload, json, PREFIX);
  const id = unitId(p.deployable_id, p.deployment_id);
  const type = DEPLOYMENT_STATUS[p.status];
  if (!type) return received(origin, id, p.status);

  const fromUrl = p.commit_url?.split('/').pop();
  const sha = fromUrl && SHA.test(fromUrl) ? fromUrl : p.short_sha;
  return {
    type,
    ...unit(origin, id),
    data: {
      ...origin,
      environment: p.environment,
      deploymentId: id,
      correlationId: `${PROVIDER}/${origin.project}/${id}`,
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
    },
  };
}

/** What a gate for one waiting deploy job is made of, from a Pipeline Hook or the REST API. */
export interface WaitingJob {
  origin: CicdOrigin & { provider: 'gitlab' };
  /** Instance base URL (with any relative root), see {@link gitlabInstanceUrl}. */
  base: string;
  projectId: string;
  webUrl: string;
  jobId: string;
  jobName: string;
  environment: string;
  sha?: string | null | undefined;
  ref?: string | null | undefined;
  message?: string | null | undefined;
  /** The git author of the commit, for separation of duties. */
  author?: Person | undefined;
  actor?: string | null | undefined;
  changeNumber?: string | undefined;
}

/**
 * The `deployment.requested` event of one deploy job waiting for approval. `changegate recover
 * gitlab` builds the same event from the deployments API, so both open the same gate.
 */
export function waitingJobEvent(w: WaitingJob): NormalizedEvent {
  const id = unitId(w.jobId, '');
  const webUrl = w.webUrl.replace(/\/+$/, '');
  return {
    type: 'dev.changegate.deployment.requested',
    ...unit(w.origin, id),
    data: {
      ...w.origin,
      environment: w.environment,
      deploymentId: id,
      correlationId: `${PROVIDER}/${w.origin.project}/${id}`,
      run: { id: w.jobId, url: `${webUrl}/-/jobs/${w.jobId}`, name: w.jobName },
      commit: {
        ...optional('sha', w.sha),
        ...optional('ref', w.ref),
        ...optional('message', w.message),
        ...(w.author ? { author: w.author } : {}),
      },
      ...optional('actor', w.actor),
      ...optional('changeNumber', w.changeNumber ?? findChangeNumber(w.message)),
      ...optional('description', w.message?.split('\n')[0]),
      // The play URL is not a credential: the worker authenticates with its own token.
      callback: {
        kind: 'gitlab' as const,
        url: gitlabPlayUrl(w.base, w.projectId, w.jobId),
        params: { projectId: w.projectId, jobId: w.jobId, environment: w.environment },
      },
    },
  } satisfies NormalizedEvent;
}

/** One `deployment.requested` per deploy job the Pipeline Hook shows waiting. */
function requested(
  p: PipelinePayload,
  origin: Origin,
  instanceHeader: string | null,
): NormalizedEvent[] {
  const a = p.object_attributes;
  const base = gitlabInstanceUrl(instanceHeader, p.project.web_url, p.project.path_with_namespace);
  return waitingDeployJobs(p).map((b) =>
    waitingJobEvent({
      origin,
      base,
      projectId: p.project.id,
      webUrl: p.project.web_url,
      jobId: b.id,
      jobName: b.name,
      environment: b.environment.name,
      sha: a.sha,
      ref: a.ref,
      message: p.commit?.message,
      author: commitAuthor(p),
      actor: p.user?.username ?? p.user?.name,
      changeNumber: pipelineChangeNumber(p),
    }),
  );
}

function pipeline(json: unknown, origin: Origin, instanceHeader: string | null): NormalizedEvent[] {
  const p = parsePayload(PipelinePayload, json, PREFIX);
  const a = p.object_attributes;
  const id = `pipeline-${a.id}`;
  const gates = requested(p, origin, instanceHeader);
  const status = PIPELINE_STATUS[a.status];
  if (!status) return gates.length > 0 ? gates : [received(origin, id, a.status)];

  const builds = p.builds ?? [];
  const environments = [...new Set(builds.flatMap((b) => b.environment?.name ?? []))];
  const webUrl = p.project.web_url.replace(/\/+$/, '');
  const author = commitAuthor(p);
  const finished: NormalizedEvent = {
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
        ...(author ? { author } : {}),
      },
      ...optional('actor', p.user?.username ?? p.user?.name),
      ...optional('changeNumber', pipelineChangeNumber(p)),
      status,
      failures: builds
        .filter((b) => b.status === 'failed')
        .map((b) => ({ name: b.name, url: `${webUrl}/-/jobs/${b.id}` })),
    },
  };
  return [finished, ...gates];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function field(node: unknown, ...path: string[]): unknown {
  let at = node;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Where a delivery belongs: the project, else the group (group-only events), else `unknown`.
 * Never throws: a verified delivery is published even when it names no project.
 */
function projectOf(json: object): string {
  return (
    text(field(json, 'project', 'path_with_namespace')) ??
    text(field(json, 'project_name')) ??
    text(field(json, 'path_with_namespace')) ??
    text(field(json, 'full_path')) ??
    text(field(json, 'group', 'full_path')) ??
    text(field(json, 'group_path')) ??
    'unknown'
  );
}

function fallbackId(json: object, event: string): string {
  return text(field(json, 'object_kind')) ?? event.toLowerCase().replace(/\s+/g, '-');
}

function fallbackAction(json: object): string | undefined {
  return (
    text(field(json, 'object_attributes', 'action')) ??
    text(field(json, 'event_name')) ??
    text(field(json, 'status')) ??
    text(field(json, 'build_status'))
  );
}

/**
 * Normalize a verified GitLab delivery. Known events are mapped; every other verified delivery,
 * including a known event of a shape the mapping cannot read, becomes `webhook.received` (with the
 * reason), never an error: GitLab disables a hook after 4 consecutive failing answers and for
 * good after 40 (GitLab docs, webhooks: auto-disabled webhooks), so a 4xx for an event we do not
 * understand would switch off the gate's trigger too.
 * @throws PayloadError only when the delivery names no event or is not a JSON object.
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
  const instance = request.headers.get('x-gitlab-instance');

  let events: NormalizedEvent[];
  try {
    switch (event) {
      case 'Deployment Hook':
        events = [deployment(json, origin)];
        break;
      case 'Pipeline Hook':
        events = pipeline(json, origin, instance);
        break;
      case 'Job Hook': {
        const job = parsePayload(JobPayload, json, PREFIX);
        events = [received(origin, `pipeline-${job.pipeline_id}`, job.build_status)];
        break;
      }
      default:
        events = [received(origin, fallbackId(json, event), fallbackAction(json))];
    }
  } catch (err) {
    if (!(err instanceof PayloadError)) throw err;
    events = [received(origin, fallbackId(json, event), fallbackAction(json), err.reason)];
  }
  return { kind: 'events', events };
}
