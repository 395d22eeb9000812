import { randomUUID } from 'node:crypto';
import type { CiProvider, ReceivedCall } from '../../../src/sandbox/ci/index.js';
import type { SnRecord } from '../../../src/sandbox/servicenow/index.js';
import { sign } from '../../../src/security/standard-webhooks.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import type { RawRequest } from '../../../src/receivers/types.js';
import { poll } from '../../support/process-stack/poll.js';
import { STACK_SECRETS } from '../../support/process-stack/secrets.js';
import type { ProcessStack } from '../../support/process-stack/stack.js';

/**
 * A deployment that waits at a gate, one per provider, as the real CI system would announce it:
 * registered as pending in the CI emulator first, then a signed delivery to the receiver.
 *
 * @module
 */

export type Provider = 'github' | 'gitlab' | 'azure-devops' | 'jenkins';
export const PROVIDERS: readonly Provider[] = ['github', 'gitlab', 'azure-devops', 'jenkins'];

export interface GateDeployment {
  provider: Provider;
  /** The CR's correlation_id ends with this (unique per deployment). */
  correlationSuffix: string;
  /** Part of the callback path that only this gate's calls contain. */
  pathKey: string;
  /** The delivery as first sent; `send()` posts it (again). */
  request: RawRequest;
  route: string;
}

let counter = 0;
/** Unique across test files that share the broker and run at the same time. */
const unique = () => `${Date.now() % 1e9}${process.pid % 1000}${(counter += 1)}`;

/** Build a pending gate for `provider` in `environment`. */
export async function pendingGate(
  stack: ProcessStack,
  provider: Provider,
  environment: string,
): Promise<GateDeployment> {
  switch (provider) {
    case 'github':
      return githubGate(stack, environment);
    case 'gitlab':
      return gitlabGate(stack, environment);
    case 'azure-devops':
      return azureGate(stack, environment);
    case 'jenkins':
      return jenkinsGate(stack, environment);
  }
}

/** A deployment protection rule `requested` for a fresh workflow run. */
export async function githubGate(
  stack: ProcessStack,
  environment: string,
  runId = unique(),
): Promise<GateDeployment> {
  const callback = await stack.ci.githubPending('Codertocat', 'Hello-World', runId, environment);
  const payload = githubFixture('synthetic-deployment_protection_rule.requested');
  payload.deployment_callback_url = callback;
  payload.environment = environment;
  return {
    provider: 'github',
    correlationSuffix: `/run-${runId}-${environment}`,
    pathKey: `/actions/runs/${runId}/`,
    request: githubRequest('deployment_protection_rule', payload, {
      secret: STACK_SECRETS.github,
      deliveryId: randomUUID(),
    }),
    route: '/hooks/github',
  };
}

/**
 * The Pipeline Hook GitLab sends while a deploy job to a protected environment waits for approval
 * (the job `manual`): built by the CI emulator, which also holds the blocked deployment.
 */
async function gitlabGate(stack: ProcessStack, environment: string): Promise<GateDeployment> {
  const u = unique();
  const projectId = Number(u) % 1e9;
  const projectPath = `acme/gl-${u}`;
  const pipeline = await stack.ci.gitlabPipeline({ projectId, projectPath, environment });
  const payload = pipeline.hook;
  const instance = stack.ci.url;
  return {
    provider: 'gitlab',
    correlationSuffix: `/job-${pipeline.jobId}`,
    pathKey: `/api/v4/projects/${projectId}/`,
    request: gitlabRequest('Pipeline Hook', payload, {
      token: STACK_SECRETS.gitlab,
      idempotencyKey: randomUUID(),
      instance,
    }),
    route: '/hooks/gitlab',
  };
}

/** An Invoke REST API check in callback mode, with the headers Azure DevOps sends. */
async function azureGate(stack: ProcessStack, environment: string): Promise<GateDeployment> {
  const check = await stack.ci.azurePending();
  const runId = unique();
  const planUrl = `${new URL(check.url).origin}/`;
  const headers = new Headers({
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(`${STACK_SECRETS.azureUser}:${STACK_SECRETS.azurePassword}`).toString('base64')}`,
    PlanUrl: planUrl,
    ProjectId: check.params.projectId,
    HubName: check.params.hubName,
    PlanId: check.params.planId,
    JobId: check.params.jobId,
    TimelineId: check.params.timelineId,
    TaskInstanceId: check.params.taskInstanceId,
    AuthToken: check.authToken,
  });
  const body = {
    environment,
    project: 'Payments/payments-api',
    pipeline: 'payments-deploy',
    runId,
    runName: `20261125.${runId}`,
    runUrl: `https://dev.azure.com/fabrikam/Payments/_build/results?buildId=${runId}`,
    sha: '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e',
    ref: 'refs/heads/main',
    actor: 'Normal Paulk',
  };
  return {
    provider: 'azure-devops',
    correlationSuffix: `/${runId}-${environment}`,
    pathKey: `/plans/${check.params.planId}/`,
    request: { headers, body: new TextEncoder().encode(JSON.stringify(body)), params: {} },
    route: '/hooks/azure-devops',
  };
}

export interface JenkinsGateOptions {
  job?: string;
  build?: number;
  deploymentId?: string;
  attempt?: number;
  /** Link this existing CR instead of creating one. */
  changeNumber?: string;
}

/** Our shared-library step's `deployment.requested`, signed as a Standard Webhook. */
export async function jenkinsGate(
  stack: ProcessStack,
  environment: string,
  o: JenkinsGateOptions = {},
): Promise<GateDeployment> {
  const job = o.job ?? `payments-${unique()}`;
  const build = o.build ?? 1;
  const deploymentId = o.deploymentId ?? `rel-${unique()}-${environment}`;
  const callback = await stack.ci.jenkinsPending(job, build);
  const text = JSON.stringify({
    type: 'deployment.requested',
    timestamp: new Date().toISOString(),
    data: {
      project: 'acme/payments',
      environment,
      deploymentId,
      run: { id: `${job}-${build}`, url: callback, attempt: o.attempt ?? 1 },
      commit: { sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', ref: 'refs/heads/main' },
      ...(o.changeNumber ? { changeNumber: o.changeNumber } : {}),
      callback: { kind: 'jenkins', url: callback },
    },
  });
  return {
    provider: 'jenkins',
    correlationSuffix: `/${deploymentId}`,
    pathKey: `/job/${job}/${build}/`,
    request: {
      headers: new Headers({
        'content-type': 'application/json',
        ...sign(STACK_SECRETS.whsec, `msg_${randomUUID()}`, new Date(), text),
      }),
      body: new TextEncoder().encode(text),
      params: {},
    },
    route: '/hooks/jenkins',
  };
}

/** POST the gate's delivery (the same bytes and delivery id every time). */
export function send(stack: ProcessStack, gate: GateDeployment): Promise<Response> {
  return fetch(`${stack.receiverUrl}${gate.route}`, {
    method: 'POST',
    headers: gate.request.headers,
    body: gate.request.body,
  });
}

/** CRs whose correlation_id belongs to this deployment. */
export async function crsOf(stack: ProcessStack, gate: GateDeployment): Promise<SnRecord[]> {
  return (await stack.sn.changes()).filter((r) =>
    (r.correlation_id ?? '').endsWith(gate.correlationSuffix),
  );
}

/** Wait for the deployment's CR to exist and wait for approval (requested at Assess or Authorize). */
export async function awaitingApproval(
  stack: ProcessStack,
  gate: GateDeployment,
): Promise<SnRecord> {
  return poll(
    async () => (await crsOf(stack, gate)).find((r) => r.approval === 'requested'),
    `${gate.provider} CR ${gate.correlationSuffix} awaiting approval`,
  );
}

/** Calls the CI emulator received for this gate that decided it (or met a decided gate). */
export async function decisions(
  stack: ProcessStack,
  gate: GateDeployment,
): Promise<ReceivedCall[]> {
  const provider: CiProvider = gate.provider;
  return (await stack.ci.received({ provider, pathContains: gate.pathKey })).filter((c) =>
    ['released', 'rejected', 'duplicate', 'not-pending'].includes(c.effect),
  );
}

/** Wait for the first decision call of this gate. */
export function decided(stack: ProcessStack, gate: GateDeployment, timeoutMs = 15_000) {
  return poll(
    async () => (await decisions(stack, gate))[0],
    `a decision for ${gate.provider} ${gate.pathKey}`,
    timeoutMs,
  );
}

/** ServiceNow's `YYYY-MM-DD HH:mm:ss` (UTC). */
export const snTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
