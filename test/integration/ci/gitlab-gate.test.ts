import { Gitlab } from '@gitbeaker/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallbackClients, type CallbackClients } from '../../../src/ci/index.js';
import { CiSchema } from '../../../src/config/ci.js';
import { UpstreamError } from '../../../src/errors.js';
import type { Callback } from '../../../src/events/common.js';
import { normalizeGitlab } from '../../../src/providers/gitlab/receiver/index.js';
import { createSealer } from '../../../src/security/seal.js';
import {
  startCiEmulator,
  type CiEmulator,
  type ReceivedCall,
} from '../../../src/sandbox/ci/index.js';
import type { GitlabPipelineOptions } from '../../../src/providers/gitlab/emulator.js';
import { verified } from '../../fixtures/github-request.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';

/**
 * The GitLab callback client against the emulator, and the emulator against GitLab's own SDK
 * (`@gitbeaker/rest`) as the other party: both must speak the same API shapes.
 */

let ci: CiEmulator;
let clients: CallbackClients;
let api: InstanceType<typeof Gitlab>;

const approve = { outcome: 'approve', comment: 'CHG0030001 approved' } as const;
const reject = { outcome: 'reject', comment: 'CHG0030002 rejected by CAB' } as const;

beforeAll(async () => {
  ci = await startCiEmulator();
  const config = CiSchema.parse({
    allowLoopback: true,
    timeoutMs: 5_000,
    gitlab: { [new URL(ci.url).host]: { token: ci.credentials.gitlabToken } },
  });
  clients = createCallbackClients(config, { sealer: createSealer(Buffer.alloc(32, 1)) });
  api = new Gitlab({ host: ci.url, token: ci.credentials.gitlabToken });
});
afterAll(async () => ci?.close());

/** A waiting deploy job and the callback the receiver makes of its Pipeline Hook. */
async function gate(options: GitlabPipelineOptions = {}) {
  const pipeline = await ci.gitlab.pipeline({ deliver: false, ...options });
  const request = gitlabRequest('Pipeline Hook', pipeline.hook, { token: 't', instance: ci.url });
  const result = await normalizeGitlab(verified(request, `pl-${pipeline.pipelineId}`), {
    now: new Date(),
    rawMaxBytes: 1024,
    seal: () => Promise.reject(new Error('unused')),
  });
  if (result.kind !== 'events') throw new Error('expected events');
  const requested = result.events.find((e) => e.type === 'dev.changegate.deployment.requested');
  const callback = (requested?.data as { callback: Callback }).callback;
  return { ...pipeline, callback };
}

const calls = (jobId: number, deploymentId: number): ReceivedCall[] =>
  ci
    .received()
    .filter(
      (c) => c.path.includes(`/jobs/${jobId}`) || c.path.includes(`/deployments/${deploymentId}`),
    );

type RequestFailure = { cause?: { description?: string; response?: Response } };
/** The GitbeakerRequestError a call ends with (cause: description + response). */
async function failureOf(call: Promise<unknown>): Promise<RequestFailure> {
  return call.then(
    () => ({}),
    (e: unknown) => e as RequestFailure,
  );
}

const settled = async (projectId: number, jobId: number) => {
  for (let i = 0; i < 100; i++) {
    const status = ci.gitlab.job(projectId, jobId)?.status;
    if (status === 'success' || status === 'failed') return status;
    await new Promise((r) => setTimeout(r, 10));
  }
  return ci.gitlab.job(projectId, jobId)?.status;
};

describe('the emulator, read and driven by @gitbeaker/rest', () => {
  it('lists the waiting deployment with status=blocked and its job as manual', async () => {
    const g = await gate({ projectId: 51, environment: 'production' });
    const blocked = await api.Deployments.all(51, { status: 'blocked', environment: 'production' });
    const mine = blocked.find((d) => d.id === g.deploymentId);
    expect(mine).toMatchObject({
      status: 'blocked',
      deployable: { id: g.jobId, status: 'manual' },
    });
    const job = await api.Jobs.show(51, g.jobId);
    expect(job).toMatchObject({ id: g.jobId, status: 'manual', name: 'deploy-production' });
    const detailed = await api.Deployments.show(51, g.deploymentId);
    expect(detailed).toMatchObject({ pending_approval_count: 1, approvals: [] });
  });

  it('approving leaves the job manual; playing runs it; approving again is refused', async () => {
    const g = await gate({ projectId: 52 });
    const approval = await api.Deployments.setApproval(52, g.deploymentId, 'approved', {
      comment: 'ok',
    });
    expect(approval).toMatchObject({ status: 'approved', user: { username: 'changegate' } });
    expect(ci.gitlab.job(52, g.jobId)?.status).toBe('manual');

    const played = await api.Jobs.play(52, g.jobId);
    expect(played).toMatchObject({ id: g.jobId, status: 'running' });
    expect(await settled(52, g.jobId)).toBe('success');
    expect(ci.gitlab.deployment(52, g.deploymentId)?.status).toBe('success');

    const again = await failureOf(api.Deployments.setApproval(52, g.deploymentId, 'approved'));
    expect(again.cause?.response?.status).toBe(400);
    expect(again.cause?.description).toMatch(/not waiting for approvals/);
  });

  it('refuses to play a job still waiting for approval: Unplayable Job', async () => {
    const g = await gate({ projectId: 53 });
    const err = await failureOf(api.Jobs.play(53, g.jobId));
    expect(err.cause?.response?.status).toBe(400);
    expect(err.cause?.description).toMatch(/Unplayable Job/);
    expect(ci.gitlab.job(53, g.jobId)?.status).toBe('manual');
  });
});

describe('the GitLab callback client', () => {
  it('releases by approving the blocked deployment, then playing the job, once', async () => {
    const g = await gate({ projectId: 61 });
    expect(g.callback).toMatchObject({
      kind: 'gitlab',
      url: `${ci.url}/api/v4/projects/61/jobs/${g.jobId}/play`,
    });
    await expect(clients.decide(g.callback, approve)).resolves.toEqual({
      status: 'done',
      httpStatus: 200,
    });
    const seen = ci.received().filter((c) => c.path.startsWith('/api/v4/projects/61/'));
    expect(seen.map((c) => `${c.method} ${c.path.split('?')[0]} ${c.effect}`)).toEqual([
      'GET /api/v4/projects/61/deployments read',
      `POST /api/v4/projects/61/deployments/${g.deploymentId}/approval approved`,
      `GET /api/v4/projects/61/jobs/${g.jobId} read`,
      `POST /api/v4/projects/61/jobs/${g.jobId}/play released`,
    ]);
    expect(seen[0]!.path).toContain('status=blocked');
    expect(seen[1]!.headers['private-token']).toBe(ci.credentials.gitlabToken);
    expect(seen[1]!.body).toEqual({ status: 'approved', comment: approve.comment });
    expect(await settled(61, g.jobId)).toBe('success');
  });

  it('answers already-decided to a redelivered decision and plays nothing twice', async () => {
    const g = await gate({ projectId: 62 });
    await clients.decide(g.callback, approve);
    await settled(62, g.jobId);
    await expect(clients.decide(g.callback, approve)).resolves.toMatchObject({
      status: 'already-decided',
    });
    expect(calls(g.jobId, g.deploymentId).filter((c) => c.effect === 'released')).toHaveLength(1);
    expect(ci.gitlab.job(62, g.jobId)?.plays).toBe(1);
  });

  it('rejects the deployment; GitLab drops the job and nothing is played', async () => {
    const g = await gate({ projectId: 63 });
    await expect(clients.decide(g.callback, reject)).resolves.toEqual({
      status: 'done',
      httpStatus: 201,
    });
    expect(ci.gitlab.job(63, g.jobId)).toMatchObject({
      status: 'failed',
      failureReason: 'deployment_rejected',
      plays: 0,
    });
    expect(ci.gitlab.deployment(63, g.deploymentId)?.status).toBe('failed');
    await expect(clients.decide(g.callback, reject)).resolves.toMatchObject({
      status: 'already-decided',
    });
    await expect(clients.decide(g.callback, approve)).resolves.toMatchObject({
      status: 'already-decided',
    });
    expect(ci.gitlab.job(63, g.jobId)?.plays).toBe(0);
  });

  it('never plays a manual job GitLab does not hold for approval', async () => {
    const g = await gate({ projectId: 64, requiredApprovals: 0 });
    await expect(clients.decide(g.callback, approve)).resolves.toEqual({
      status: 'already-decided',
      httpStatus: 400,
    });
    expect(ci.gitlab.job(64, g.jobId)).toMatchObject({ status: 'manual', plays: 0 });
  });

  it('does not play a job the legacy approval count already started', async () => {
    const g = await gate({ projectId: 65, approvalRules: false });
    await expect(clients.decide(g.callback, approve)).resolves.toMatchObject({ status: 'done' });
    expect(calls(g.jobId, g.deploymentId).some((c) => c.path.endsWith('/play'))).toBe(false);
    expect(ci.gitlab.job(65, g.jobId)?.plays).toBe(1);
  });

  it('says so, without claiming a release, when GitLab still waits for other approvals', async () => {
    const g = await gate({ projectId: 66, requiredApprovals: 2 });
    const err = await clients.decide(g.callback, approve).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/still waits for other approvals/);
    expect(ci.gitlab.job(66, g.jobId)).toMatchObject({ status: 'manual', plays: 0 });
  });

  it('maps a 503 to a retryable UpstreamError, and the retry releases once', async () => {
    const g = await gate({ projectId: 67 });
    ci.failNext('gitlab', 503);
    const err = await clients.decide(g.callback, approve).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, upstreamStatus: 503 });
    await expect(clients.decide(g.callback, approve)).resolves.toMatchObject({ status: 'done' });
    expect(ci.gitlab.job(67, g.jobId)?.plays).toBe(1);
  });

  it('still releases a gate registered by an older release (approval URL)', async () => {
    const g = await gate({ projectId: 68 });
    const legacy: Callback = {
      kind: 'gitlab',
      url: `${ci.url}/api/v4/projects/68/deployments/${g.deploymentId}/approval`,
      params: { projectId: '68', deploymentId: String(g.deploymentId), environment: 'production' },
    };
    await expect(clients.decide(legacy, approve)).resolves.toMatchObject({ status: 'done' });
    expect(ci.gitlab.job(68, g.jobId)?.plays).toBe(1);
  });

  it('has no status comment and says so', async () => {
    const g = await gate({ projectId: 69 });
    await expect(clients.comment(g.callback, 'waiting')).resolves.toBe(false);
  });
});
