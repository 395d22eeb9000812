import type { CicdOrigin, Person } from '../../../events/cicd.js';
import type { DeploymentEventType } from '../../../events/types.js';
import { captureRaw, type NormalizedEvent } from '../../../events/index.js';
import { PayloadError } from '../../../errors.js';
import { findChangeNumber } from '../../../receivers/change-reference.js';
import { received, unit } from '../../../receivers/event-unit.js';
import { eventAndObject, parsePayload } from '../../../receivers/parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import {
  CheckSuitePayload,
  DeploymentProtectionRulePayload,
  DeploymentStatusPayload,
  OwnerPayload,
  RepositoryPayload,
  type RunCore,
  WorkflowJobPayload,
  WorkflowRunPayload,
} from './payloads.js';
import { runDeploymentId, runIdFromCallbackUrl } from './deployment-id.js';

/**
 * GitHub delivery → changegate events. Pure: the same request and context give the same events.
 *
 * Identity of a deployment: GitHub creates a new `deployment.id` for every attempt of a workflow
 * run, but a re-run keeps the run id (only `run_attempt` grows) and the environment. So a
 * deployment made by Actions is `run-<runId>-<environment>`, and a re-run lands on the same
 * change request. Deployments made outside Actions (API, third-party CD) have no run and are
 * keyed `deployment-<deployment.id>`.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/github]';
const PROVIDER = 'github';
const EMERGENCY_LABEL = /\b(?:emergency|hotfix)\b/i;

type Origin = CicdOrigin & { provider: typeof PROVIDER };

/** `deployment_status.state` → event; in_progress only: queued/pending/waiting mean a gate may still hold it. */
const DEPLOYMENT_STATE: Record<string, DeploymentEventType> = {
  in_progress: 'dev.changegate.deployment.started',
  success: 'dev.changegate.deployment.succeeded',
  failure: 'dev.changegate.deployment.failed',
  error: 'dev.changegate.deployment.failed',
};

const RUN_CONCLUSION: Record<string, 'succeeded' | 'failed' | 'canceled'> = {
  success: 'succeeded',
  failure: 'failed',
  timed_out: 'failed',
  startup_failure: 'failed',
  cancelled: 'canceled',
};

/** A person from whatever parts a payload names; undefined when it names none. */
function personOf(parts: {
  login?: string | null | undefined;
  name?: string | null | undefined;
  email?: string | null | undefined;
}): Person | undefined {
  const person: Person = {
    ...optional('login', parts.login),
    ...optional('name', parts.name),
    ...optional('email', parts.email),
  };
  return Object.keys(person).length > 0 ? person : undefined;
}

function stringify(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function deploymentProtectionRule(json: unknown, origin: Origin): NormalizedEvent {
  const p = parsePayload(DeploymentProtectionRulePayload, json, PREFIX);
  const runId = runIdFromCallbackUrl(p.deployment_callback_url);
  const deploymentId = runId
    ? runDeploymentId(runId, p.environment)
    : p.deployment
      ? `deployment-${p.deployment.id}`
      : undefined;
  if (!deploymentId) {
    throw new PayloadError(
      'invalid_field:deployment_callback_url',
      `${PREFIX} no run id in deployment_callback_url and no deployment`,
    );
  }
  if (p.action !== 'requested') return received(origin, deploymentId, p.action);

  const prs = p.pull_requests ?? [];
  const labels = [...new Set(prs.flatMap((pr) => (pr.labels ?? []).map((l) => l.name)))];
  const changeNumber = findChangeNumber(
    stringify(p.deployment?.payload),
    p.deployment?.description,
    ...prs.flatMap((pr) => [pr.title, pr.body]),
    labels.join('\n'),
  );
  // Separation of duties: the PR the deployed commit came from. A deployment of one commit names
  // one PR in practice; with several (a commit on more than one open PR) the first is taken.
  const pullRequestAuthor = prs[0]?.user ? personOf(prs[0].user) : undefined;
  const repoUrl = p.repository.html_url;
  return {
    type: 'dev.changegate.deployment.requested',
    ...unit(origin, deploymentId),
    data: {
      ...origin,
      environment: p.environment,
      deploymentId,
      correlationId: `${PROVIDER}/${origin.project}/${deploymentId}`,
      ...(runId
        ? { run: { id: runId, ...(repoUrl ? { url: `${repoUrl}/actions/runs/${runId}` } : {}) } }
        : {}),
      commit: {
        ...(p.deployment?.sha ? { sha: p.deployment.sha } : {}),
        ...(p.deployment?.ref ? { ref: p.deployment.ref } : {}),
      },
      ...optional('actor', p.sender?.login ?? p.deployment?.creator?.login),
      ...(pullRequestAuthor ? { pullRequestAuthor } : {}),
      ...optional('changeNumber', changeNumber),
      ...optional('description', p.deployment?.description),
      labels,
      emergency: labels.some((l) => EMERGENCY_LABEL.test(l)),
      // The callback URL grants nothing without the App's private key, so it travels in clear.
      callback: {
        kind: 'github',
        url: p.deployment_callback_url,
        // GitHub makes a new deployment per run attempt and keeps it on redelivery: a re-run
        // after a decision is a new gate, a redelivery the same one.
        params: {
          installationId: p.installation.id,
          environment: p.environment,
          ...(p.deployment?.id !== undefined ? { deploymentId: String(p.deployment.id) } : {}),
        },
      },
    },
  };
}

function optional<K extends string>(key: K, value: string | null | undefined) {
  return (value ? { [key]: value } : {}) as Partial<Record<K, string>>;
}

function deploymentStatus(json: unknown, origin: Origin): NormalizedEvent {
  const p = parsePayload(DeploymentStatusPayload, json, PREFIX);
  const environment = p.deployment_status.environment || p.deployment.environment;
  if (!environment) {
    throw new PayloadError('missing_field:deployment.environment', `${PREFIX} no environment`);
  }
  const run = p.workflow_run;
  const deploymentId = run ? runDeploymentId(run.id, environment) : `deployment-${p.deployment.id}`;
  const state = p.deployment_status.state;
  const type = DEPLOYMENT_STATE[state];
  if (!type) return received(origin, deploymentId, state);

  return {
    type,
    ...unit(origin, deploymentId),
    data: {
      ...origin,
      environment,
      deploymentId,
      correlationId: `${PROVIDER}/${origin.project}/${deploymentId}`,
      ...(run ? { run: runOf(run) } : {}),
      commit: {
        ...optional('sha', p.deployment.sha ?? run?.head_sha),
        ...optional('ref', p.deployment.ref ?? run?.head_branch),
      },
      ...optional('actor', p.deployment_status.creator?.login ?? p.sender?.login),
      ...optional(
        'changeNumber',
        findChangeNumber(
          stringify(p.deployment.payload),
          p.deployment.description,
          run?.display_title,
        ),
      ),
      ...optional('description', p.deployment_status.description ?? p.deployment.description),
    },
  };
}

function runOf(run: RunCore) {
  return {
    id: run.id,
    ...optional('url', run.html_url),
    ...optional('name', run.name),
    ...(run.run_attempt ? { attempt: run.run_attempt } : {}),
  };
}

function workflowRun(json: unknown, origin: Origin): NormalizedEvent {
  const p = parsePayload(WorkflowRunPayload, json, PREFIX);
  const run = p.workflow_run;
  const id = `run-${run.id}`;
  const status = p.action === 'completed' ? RUN_CONCLUSION[run.conclusion ?? ''] : undefined;
  if (!status) return received(origin, id, p.action);
  const head = run.head_commit;
  const author = head?.author ? gitPerson(head.author) : undefined;
  const committer = head?.committer ? gitPerson(head.committer) : undefined;
  return {
    type:
      status === 'succeeded'
        ? 'dev.changegate.pipeline.succeeded'
        : 'dev.changegate.pipeline.failed',
    ...unit(origin, id),
    data: {
      ...origin,
      run: runOf(run),
      pipeline: run.name || p.workflow?.name || run.path || id,
      commit: {
        ...optional('sha', run.head_sha),
        ...optional('ref', run.head_branch),
        ...optional('message', run.head_commit?.message),
        ...(author ? { author } : {}),
        ...(committer ? { committer } : {}),
      },
      ...optional('actor', run.triggering_actor?.login ?? run.actor?.login ?? p.sender?.login),
      status,
      // A workflow_run payload does not say which jobs failed; workflow_job events do.
      failures: [],
    },
  };
}

function gitPerson(git: { name?: string | null; email?: string | null; username?: string | null }) {
  return personOf({ login: git.username, name: git.name, email: git.email });
}

/**
 * Name the project of an event that may have no repository. App- and account-level events
 * (sponsorship, marketplace_purchase, security_advisory, github_app_authorization) carry none of
 * repository, organization or installation; they are still real deliveries, so they are named by
 * the account that caused them, and `github` when even that is missing, never refused.
 */
function projectOf(json: unknown, event: string): string {
  if (['deployment_protection_rule', 'deployment_status', 'workflow_run'].includes(event)) {
    return parsePayload(RepositoryPayload, json, PREFIX).repository.full_name;
  }
  const p = parsePayload(OwnerPayload, json, PREFIX);
  return (
    p.repository?.full_name ??
    p.organization?.login ??
    (p.installation ? `installation-${p.installation.id}` : undefined) ??
    p.sender?.login ??
    PROVIDER
  );
}

/**
 * Normalize a verified GitHub delivery.
 * @throws PayloadError when a header or field the mapping needs is missing or malformed.
 */
export async function normalizeGithub(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  if (request.headers.get('x-github-event')?.trim() === 'ping') return { kind: 'ping' };
  const { event, json } = eventAndObject(request, 'x-github-event', PREFIX);

  const origin: Origin = {
    provider: PROVIDER,
    project: projectOf(json, event),
    event,
    deliveryId: request.deliveryId,
    raw: captureRaw(json, request.body.byteLength, ctx.rawMaxBytes),
  };
  const action = parsePayload(OwnerPayload, json, PREFIX).action;
  let normalized: NormalizedEvent;
  switch (event) {
    case 'deployment_protection_rule':
      normalized = deploymentProtectionRule(json, origin);
      break;
    case 'deployment_status':
      normalized = deploymentStatus(json, origin);
      break;
    case 'workflow_run':
      normalized = workflowRun(json, origin);
      break;
    case 'workflow_job':
      normalized = received(
        origin,
        `run-${parsePayload(WorkflowJobPayload, json, PREFIX).workflow_job.run_id}`,
        action,
      );
      break;
    case 'check_suite':
      normalized = received(
        origin,
        `check-suite-${parsePayload(CheckSuitePayload, json, PREFIX).check_suite.id}`,
        action,
      );
      break;
    default:
      normalized = received(origin, event, action);
  }
  return { kind: 'events', events: [normalized] };
}
