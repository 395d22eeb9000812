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
        githubFixture('deployment_protection_rule.requested'),
      ),
    );
    expect(e.type).toBe('dev.changegate.deployment.requested');
    expect(e.key).toBe('github/acme/payments/run-8123456789-production');
    expect(e.subject).toBe(e.key);
    expect(e.data).toMatchObject({
      provider: 'github',
      project: 'acme/payments',
      event: 'deployment_protection_rule',
      deliveryId: 'd-1',
      environment: 'production',
      deploymentId: 'run-8123456789-production',
      correlationId: 'github/acme/payments/run-8123456789-production',
      run: { id: '8123456789', url: 'https://github.com/acme/payments/actions/runs/8123456789' },
      commit: { sha: '7638417db6d59f3c431d3e1f261cc637155684cd', ref: 'main' },
      actor: 'octocat',
      labels: ['hotfix', 'payments'],
      emergency: true,
      callback: {
        kind: 'github',
        url: 'https://api.github.com/repos/acme/payments/actions/runs/8123456789/deployment_protection_rule',
        params: { installationId: '51234567', environment: 'production' },
      },
      raw: { truncated: false },
    });
    expect((e.data as { raw: { bytes: number } }).raw.bytes).toBeGreaterThan(5000);
  });

  it('maps a re-run (run_attempt 2, new deployment id) to the same correlationId', async () => {
    const first = githubFixture('deployment_protection_rule.requested');
    const rerun = githubFixture('deployment_protection_rule.requested');
    (rerun.deployment as { id: number }).id = 1234567999;
    const a = only(await normalize('deployment_protection_rule', first));
    const b = only(await normalize('deployment_protection_rule', rerun, ctx, 'd-2'));
    expect(b.key).toBe(a.key);
    expect(b.data).toMatchObject({
      correlationId: (a.data as { correlationId: string }).correlationId,
    });

    const status = githubFixture('deployment_status.success');
    (status.workflow_run as { run_attempt: number }).run_attempt = 2;
    (status.deployment as { id: number }).id = 1234567999;
    const c = only(await normalize('deployment_status', status));
    expect(c.data).toMatchObject({
      correlationId: 'github/acme/payments/run-8123456789-production',
      run: { attempt: 2 },
    });
  });

  it('finds a change number in a pull request title and no emergency without such a label', async () => {
    const p = githubFixture('deployment_protection_rule.requested');
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
    const p = githubFixture('deployment_protection_rule.requested');
    (p.deployment as Record<string, unknown>).payload = { change_number: 'CHG0099999' };
    p.pull_requests = [];
    const e = only(await normalize('deployment_protection_rule', p));
    expect(e.data).toMatchObject({ changeNumber: 'CHG0099999' });
  });

  it('rejects a protection rule without repository.full_name', async () => {
    const p = githubFixture('deployment_protection_rule.requested');
    delete (p.repository as Record<string, unknown>).full_name;
    expect(await reason(normalize('deployment_protection_rule', p))).toBe(
      'missing_field:repository.full_name',
    );
  });

  it('rejects a protection rule without a callback URL or installation', async () => {
    const p = githubFixture('deployment_protection_rule.requested');
    delete p.deployment_callback_url;
    expect(await reason(normalize('deployment_protection_rule', p))).toBe(
      'missing_field:deployment_callback_url',
    );
    const q = githubFixture('deployment_protection_rule.requested');
    delete q.installation;
    expect(await reason(normalize('deployment_protection_rule', q))).toBe(
      'missing_field:installation',
    );
  });

  it.each([
    ['success', 'dev.changegate.deployment.succeeded'],
    ['failure', 'dev.changegate.deployment.failed'],
    ['error', 'dev.changegate.deployment.failed'],
    ['in_progress', 'dev.changegate.deployment.started'],
    ['queued', 'dev.changegate.webhook.received'],
    ['pending', 'dev.changegate.webhook.received'],
    ['inactive', 'dev.changegate.webhook.received'],
  ])('maps deployment_status %s to %s', async (state, type) => {
    const p = githubFixture('deployment_status.success');
    (p.deployment_status as { state: string }).state = state;
    const e = only(await normalize('deployment_status', p));
    expect(e.type).toBe(type);
    expect(e.key).toBe('github/acme/payments/run-8123456789-production');
  });

  it('keys a deployment_status without a workflow run by the deployment id', async () => {
    const p = githubFixture('deployment_status.success');
    delete p.workflow_run;
    const e = only(await normalize('deployment_status', p));
    expect(e.type).toBe('dev.changegate.deployment.succeeded');
    expect(e.data).toMatchObject({
      deploymentId: 'deployment-1234567001',
      correlationId: 'github/acme/payments/deployment-1234567001',
    });
  });

  it('reads no head_commit of a deployment_status: GitHub sends workflow_run.head_commit null there', async () => {
    // The fixture carries a head_commit that GitHub's schema ("Deployment Workflow Run",
    // @octokit/openapi-webhooks) types as null: it must not be read.
    const e = only(
      await normalize('deployment_status', githubFixture('deployment_status.success')),
    );
    expect(e.data).toMatchObject({ run: { attempt: 1, name: 'Deploy' } });
    expect(e.data).not.toHaveProperty('changeNumber');
    expect((e.data as { commit: object }).commit).not.toHaveProperty('message');
  });

  it('reads no head_commit of a deployment_protection_rule: the event has none', async () => {
    const p = githubFixture('deployment_protection_rule.requested');
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
    expect(e.key).toBe('github/acme/payments/run-8123456789');
    expect(e.data).toMatchObject({
      status,
      pipeline: 'Deploy',
      run: { id: '8123456789', attempt: 1 },
      commit: { sha: '7638417db6d59f3c431d3e1f261cc637155684cd', ref: 'main' },
      actor: 'octocat',
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
      key: 'github/acme/payments/run-8123456789',
      data: { action: 'completed', event: 'workflow_job' },
    });
    const suite = only(await normalize('check_suite', githubFixture('check_suite.completed')));
    expect(suite.key).toBe('github/acme/payments/check-suite-21234567890');
    const push = only(await normalize('push', githubFixture('push')));
    expect(push).toMatchObject({ key: 'github/acme/payments/push', data: { event: 'push' } });
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
