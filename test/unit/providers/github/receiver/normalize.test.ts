import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../../../src/errors.js';
import { buildEvent, type NormalizedEvent } from '../../../../../src/events/index.js';
import { normalizeGithub } from '../../../../../src/providers/github/receiver/normalize.js';
import type { NormalizeContext } from '../../../../../src/receivers/types.js';
import { githubFixture, githubRequest, verified } from '../../../../fixtures/github-request.js';

const SECRET = 'github-secret';
const ctx: NormalizeContext = {
  now: new Date('2026-03-04T09:00:00Z'),
  rawMaxBytes: 256 * 1024,
  seal: () => Promise.reject(new Error('GitHub seals nothing')),
};

async function normalize(event: string, payload: unknown, context = ctx, deliveryId = 'd-1') {
  const request = verified(
    githubRequest(event, payload, { secret: SECRET, deliveryId }),
    deliveryId,
  );
  const result = await normalizeGithub(request, context);
  if (result.kind !== 'events') throw new Error(`expected events, got ${result.kind}`);
  for (const e of result.events) {
    // Every output must validate against its event schema.
    buildEvent(e, { id: deliveryId, source: '/hooks/github', time: ctx.now });
  }
  return result.events;
}

function only(events: NormalizedEvent[]) {
  expect(events).toHaveLength(1);
  return events[0]!;
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PayloadError);
  return (err as PayloadError).reason;
}

describe('normalizeGithub', () => {
  it('answers ping with kind ping', async () => {
    const request = verified(githubRequest('ping', githubFixture('ping'), { secret: SECRET }), 'p');
    expect(await normalizeGithub(request, ctx)).toEqual({ kind: 'ping' });
  });

  it('maps deployment_protection_rule requested to deployment.requested with a GitHub callback', async () => {
    const e = only(
      await normalize(
        'deployment_protection_rule',
        githubFixture('synthetic-deployment_protection_rule.requested'),
      ),
    );
    expect(e.type).toBe('dev.changegate.deployment.requested');
    expect(e.key).toBe('github/Codertocat/Hello-World/run-289782451-github-pages');
    expect(e.subject).toBe(e.key);
    expect(e.data).toMatchObject({
      provider: 'github',
      project: 'Codertocat/Hello-World',
      event: 'deployment_protection_rule',
      deliveryId: 'd-1',
      environment: 'github-pages',
      deploymentId: 'run-289782451-github-pages',
      correlationId: 'github/Codertocat/Hello-World/run-289782451-github-pages',
      run: {
        id: '289782451',
        url: 'https://github.com/Codertocat/Hello-World/actions/runs/289782451',
      },
      commit: { sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e', ref: 'master' },
      actor: 'Codertocat',
      labels: ['bug'],
      emergency: false,
      callback: {
        kind: 'github',
        url: 'https://api.github.com/repos/Codertocat/Hello-World/actions/runs/289782451/deployment_protection_rule',
        params: { installationId: '1', environment: 'github-pages', deploymentId: '145988746' },
      },
      raw: { truncated: false },
    });
    expect((e.data as { raw: { bytes: number } }).raw.bytes).toBeGreaterThan(5000);
  });

  it('marks a deployment whose pull request carries a hotfix label as an emergency', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    const pr = (p.pull_requests as Array<Record<string, unknown>>)[0]!;
    pr.labels = [...(pr.labels as object[]), { name: 'hotfix' }];
    const e = only(await normalize('deployment_protection_rule', p));
    expect(e.data).toMatchObject({ labels: ['bug', 'hotfix'], emergency: true });
  });

  it("names the pull request's author for separation of duties, and no commit author (the event has none)", async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    const e = only(await normalize('deployment_protection_rule', p));
    const data = e.data as { pullRequestAuthor?: unknown; commit: Record<string, unknown> };
    expect(data.pullRequestAuthor).toEqual({ login: 'Codertocat' });
    expect(data.commit.author).toBeUndefined();
    expect(data.commit.committer).toBeUndefined();

    p.pull_requests = [];
    const none = only(await normalize('deployment_protection_rule', p, ctx, 'd-2'));
    expect((none.data as { pullRequestAuthor?: unknown }).pullRequestAuthor).toBeUndefined();
  });

  it('maps a re-run (run_attempt 2, new deployment id) to the same correlationId', async () => {
    const first = githubFixture('synthetic-deployment_protection_rule.requested');
    const rerun = githubFixture('synthetic-deployment_protection_rule.requested');
    (rerun.deployment as { id: number }).id = 1234567999;
    const a = only(await normalize('deployment_protection_rule', first));
    const b = only(await normalize('deployment_protection_rule', rerun, ctx, 'd-2'));
    expect(b.key).toBe(a.key);
    expect(b.data).toMatchObject({
      correlationId: (a.data as { correlationId: string }).correlationId,
    });

    const status = githubFixture('deployment_status.in_progress');
    (status.workflow_run as { run_attempt: number }).run_attempt = 2;
    (status.deployment as { id: number }).id = 1234567999;
    const c = only(await normalize('deployment_status', status));
    expect(c.data).toMatchObject({
      correlationId: 'github/Codertocat/Hello-World/run-289782451-github-pages',
      run: { attempt: 2 },
    });
  });

  it('finds a change number in a pull request title and no emergency without such a label', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    const pr = (p.pull_requests as Array<Record<string, unknown>>)[0]!;
    pr.title = 'Refunds for CHG0012345';
    pr.labels = [{ name: 'payments' }];
    const e = only(await normalize('deployment_protection_rule', p));
    expect(e.data).toMatchObject({
      changeNumber: 'CHG0012345',
      emergency: false,
      labels: ['payments'],
    });
  });

  it('finds a change number in the deployment payload', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    (p.deployment as Record<string, unknown>).payload = { change_number: 'CHG0099999' };
    p.pull_requests = [];
    const e = only(await normalize('deployment_protection_rule', p));
    expect(e.data).toMatchObject({ changeNumber: 'CHG0099999' });
  });

  it('rejects a protection rule without repository.full_name', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    delete (p.repository as Record<string, unknown>).full_name;
    expect(await reason(normalize('deployment_protection_rule', p))).toBe(
      'missing_field:repository.full_name',
    );
  });

  it('rejects a protection rule without a callback URL or installation', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    delete p.deployment_callback_url;
    expect(await reason(normalize('deployment_protection_rule', p))).toBe(
      'missing_field:deployment_callback_url',
    );
    const q = githubFixture('synthetic-deployment_protection_rule.requested');
    delete q.installation;
    expect(await reason(normalize('deployment_protection_rule', q))).toBe(
      'missing_field:installation',
    );
  });

  // Variants of one recording (with a workflow run) in every state; the recordings as they are
  // go through the normalizer in recorded-examples.test.ts.
  it.each([
    ['success', 'dev.changegate.deployment.succeeded'],
    ['failure', 'dev.changegate.deployment.failed'],
    ['error', 'dev.changegate.deployment.failed'],
    ['in_progress', 'dev.changegate.deployment.started'],
    ['queued', 'dev.changegate.webhook.received'],
    ['pending', 'dev.changegate.webhook.received'],
    ['inactive', 'dev.changegate.webhook.received'],
  ])('maps deployment_status %s to %s', async (state, type) => {
    const p = githubFixture('deployment_status.in_progress');
    (p.deployment_status as { state: string }).state = state;
    const e = only(await normalize('deployment_status', p));
    expect(e.type).toBe(type);
    expect(e.key).toBe('github/Codertocat/Hello-World/run-289782451-github-pages');
  });

  it('keys a deployment_status without a workflow run by the deployment id', async () => {
    const p = githubFixture('deployment_status.success'); // recorded without a workflow_run
    const e = only(await normalize('deployment_status', p));
    expect(e.type).toBe('dev.changegate.deployment.succeeded');
    expect(e.data).toMatchObject({
      deploymentId: 'deployment-145988746',
      correlationId: 'github/Codertocat/Hello-World/deployment-145988746',
    });
  });

  it('reads no head_commit of a deployment_status: GitHub sends workflow_run.head_commit null there', async () => {
    // GitHub's schema ("Deployment Workflow Run", @octokit/openapi-webhooks) types head_commit as
    // null there and the recording has none; one is added here, a field GitHub never sends, to
    // show it is not read.
    const p = githubFixture('deployment_status.in_progress');
    (p.workflow_run as Record<string, unknown>).head_commit = {
      message: 'x\n\nChange: CHG0031337',
    };
    const e = only(await normalize('deployment_status', p));
    expect(e.data).toMatchObject({ run: { attempt: 1, name: 'pages build and deployment' } });
    expect(e.data).not.toHaveProperty('changeNumber');
    expect((e.data as { commit: object }).commit).not.toHaveProperty('message');
  });

  it('reads no head_commit of a deployment_protection_rule: the event has none', async () => {
    const p = githubFixture('synthetic-deployment_protection_rule.requested');
    p.pull_requests = [];
    p.head_commit = { message: 'x\n\nChange: CHG0031337' };
    const e = only(await normalize('deployment_protection_rule', p));
    expect(e.data).not.toHaveProperty('changeNumber');
    expect((e.data as { commit: object }).commit).not.toHaveProperty('message');
  });

  it.each([
    ['success', 'dev.changegate.pipeline.succeeded', 'succeeded'],
    ['failure', 'dev.changegate.pipeline.failed', 'failed'],
    ['timed_out', 'dev.changegate.pipeline.failed', 'failed'],
    ['startup_failure', 'dev.changegate.pipeline.failed', 'failed'],
    ['cancelled', 'dev.changegate.pipeline.failed', 'canceled'],
  ])('maps a completed workflow_run with conclusion %s to %s', async (conclusion, type, status) => {
    const p = githubFixture('workflow_run.completed');
    (p.workflow_run as { conclusion: string }).conclusion = conclusion;
    const e = only(await normalize('workflow_run', p));
    expect(e.type).toBe(type);
    expect(e.key).toBe('github/octo-org/octo-repo/run-289782451');
    expect(e.data).toMatchObject({
      status,
      pipeline: 'test', // the recorded run's name is empty: the workflow's name stands in
      run: { id: '289782451', attempt: 1 },
      commit: { sha: '3484a3fb816e0859fd6e1cea078d76385ff50625', ref: 'master' },
      actor: 'Codertocat',
    });
  });

  it.each([
    ['requested', null],
    ['in_progress', null],
    ['completed', 'neutral'],
    ['completed', 'skipped'],
  ])('maps workflow_run %s/%s to webhook.received', async (action, conclusion) => {
    const p = githubFixture('workflow_run.completed');
    p.action = action;
    (p.workflow_run as { conclusion: string | null }).conclusion = conclusion;
    const e = only(await normalize('workflow_run', p));
    expect(e.type).toBe('dev.changegate.webhook.received');
    expect(e.data).toMatchObject({ action });
  });

  it('maps workflow_job, check_suite and push to webhook.received keyed by their unit', async () => {
    const job = only(await normalize('workflow_job', githubFixture('workflow_job.completed')));
    expect(job).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'github/Codertocat/Hello-World/run-2202229078',
      data: { action: 'completed', event: 'workflow_job' },
    });
    // A failed job too: which jobs failed is not a pipeline event of its own.
    const failed = only(
      await normalize('workflow_job', githubFixture('workflow_job.completed.failure')),
    );
    expect(failed).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'github/Codertocat/Hello-World/run-2202229078',
    });
    const suite = only(await normalize('check_suite', githubFixture('check_suite.completed')));
    expect(suite.key).toBe('github/Codertocat/Hello-World/check-suite-118578147');
    const push = only(await normalize('push', githubFixture('push')));
    expect(push).toMatchObject({
      key: 'github/Codertocat/Hello-World/push',
      data: { event: 'push' },
    });
    expect(push.data).not.toHaveProperty('action');
  });

  it('names an org-level event without repository by its organization', async () => {
    const e = only(
      await normalize('organization', { action: 'member_added', organization: { login: 'acme' } }),
    );
    expect(e).toMatchObject({ key: 'github/acme/organization', data: { project: 'acme' } });
  });

  it('names an account-level event without repository, organization or installation by its sender', async () => {
    const e = only(
      await normalize('sponsorship', { action: 'created', sender: { login: 'octocat' } }),
    );
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'github/octocat/sponsorship',
      data: { project: 'octocat', event: 'sponsorship', action: 'created' },
    });
  });

  it('names an event with no owner and no sender `github` instead of refusing it', async () => {
    const e = only(await normalize('star', { action: 'created' }));
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'github/github/star',
      data: { project: 'github' },
    });
  });

  it('rejects a delivery without X-GitHub-Event', async () => {
    const request = verified(
      githubRequest('push', githubFixture('push'), { secret: SECRET, omit: ['x-github-event'] }),
      'd',
    );
    expect(await reason(normalizeGithub(request, ctx))).toBe('missing_header:x-github-event');
  });

  it('rejects a JSON body that is not an object', async () => {
    expect(await reason(normalize('push', [1, 2]))).toBe('not_an_object');
  });

  it('truncates raw over the cap and keeps its byte length', async () => {
    const payload = githubFixture('workflow_run.completed');
    const bytes = new TextEncoder().encode(JSON.stringify(payload)).byteLength;
    const e = only(await normalize('workflow_run', payload, { ...ctx, rawMaxBytes: 1024 }));
    expect(e.data).toHaveProperty('raw', { truncated: true, bytes, payload: null });
    const f = only(await normalize('workflow_run', payload, { ...ctx, rawMaxBytes: bytes }));
    expect(f.data).toHaveProperty('raw', { truncated: false, bytes, payload });
  });
});
