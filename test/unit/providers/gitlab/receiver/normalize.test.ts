import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../../../src/errors.js';
import { buildEvent } from '../../../../../src/events/index.js';
import { gitlabInstanceUrl } from '../../../../../src/providers/gitlab/receiver/callback-url.js';
import {
  normalizeGitlab,
  pipelineChangeNumber,
} from '../../../../../src/providers/gitlab/receiver/normalize.js';
import { PipelinePayload } from '../../../../../src/providers/gitlab/receiver/payloads.js';
import type { NormalizeContext } from '../../../../../src/receivers/types.js';
import { verified } from '../../../../fixtures/github-request.js';
import { GITLAB_DOC_EXAMPLES, gitlabDocPayload } from '../../../../fixtures/gitlab-docs.js';
import { gitlabFixture, gitlabRequest } from '../../../../fixtures/gitlab-request.js';

const ctx: NormalizeContext = {
  now: new Date('2026-03-04T09:00:00Z'),
  rawMaxBytes: 256 * 1024,
  seal: () => Promise.reject(new Error('GitLab seals nothing')),
};

async function normalizeAll(
  event: string,
  payload: unknown,
  { context = ctx, instance }: { context?: NormalizeContext; instance?: string | null } = {},
) {
  const request = verified(gitlabRequest(event, payload, { token: 't', instance }), 'idem-1');
  const result = await normalizeGitlab(request, context);
  if (result.kind !== 'events') throw new Error(`expected events, got ${result.kind}`);
  for (const e of result.events)
    buildEvent(e, { id: 'idem-1', source: '/hooks/gitlab', time: ctx.now });
  return result.events;
}

async function normalize(
  event: string,
  payload: unknown,
  options: { context?: NormalizeContext; instance?: string | null } = {},
) {
  const events = await normalizeAll(event, payload, options);
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

/**
 * A Deployment Hook in the docs' shape with the given status: synthetic, built here (the docs show
 * only `success`), to cover the statuses GitLab's deployment.rb sends hooks for.
 */
function syntheticDeploymentHook(status: string) {
  return {
    object_kind: 'deployment',
    status,
    status_changed_at: '2026-03-04 10:50:00 +0000',
    deployment_id: 1542,
    deployable_id: 9301,
    deployable_url: 'https://gitlab.acme.example/acme/payments/-/jobs/9301',
    environment: 'production',
    project: {
      id: 30,
      web_url: 'https://gitlab.acme.example/acme/payments',
      path_with_namespace: 'acme/payments',
    },
    short_sha: '5f2c9a1e',
    user: { id: 7, name: 'Mona Lisa', username: 'mona' },
    commit_url:
      'https://gitlab.acme.example/acme/payments/-/commit/5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e',
    commit_title: 'Add idempotent refunds',
  };
}

describe('normalizeGitlab: Deployment Hook', () => {
  it('maps the docs example (success) to deployment.succeeded, keyed by the deploy job', async () => {
    const e = await normalize('Deployment Hook', gitlabDocPayload('deployment'));
    expect(e.type).toBe('dev.changegate.deployment.succeeded');
    expect(e.key).toBe('gitlab/root/test-deployment-webhooks/job-796');
    expect(e.data).toMatchObject({
      project: 'root/test-deployment-webhooks',
      environment: 'staging',
      deploymentId: 'job-796',
      correlationId: 'gitlab/root/test-deployment-webhooks/job-796',
      run: { id: '796', url: 'http://10.126.0.2:3000/root/test-deployment-webhooks/-/jobs/796' },
      commit: { sha: '279484c09fbe69ededfced8c1bb6e6d24616b468', message: 'Add new file' },
      actor: 'root',
    });
    expect(e.data).not.toHaveProperty('callback');
  });

  it.each([
    ['running', 'dev.changegate.deployment.started'],
    ['success', 'dev.changegate.deployment.succeeded'],
    ['failed', 'dev.changegate.deployment.failed'],
    ['canceled', 'dev.changegate.deployment.failed'],
    ['approved', 'dev.changegate.webhook.received'],
    ['rejected', 'dev.changegate.webhook.received'],
    ['blocked', 'dev.changegate.webhook.received'],
  ])('maps status %s to %s and never opens a gate', async (status, type) => {
    const e = await normalize('Deployment Hook', syntheticDeploymentHook(status));
    expect(e.type).toBe(type);
    expect(e.key).toBe('gitlab/acme/payments/job-9301');
    expect(e.data).not.toHaveProperty('callback');
  });

  it('keys a deployment without a job (API, trigger) by its deployment id', async () => {
    const hook = {
      ...syntheticDeploymentHook('running'),
      deployable_id: null,
      deployable_url: null,
    };
    const e = await normalize('Deployment Hook', hook);
    expect(e.key).toBe('gitlab/acme/payments/deployment-1542');
  });

  it('publishes a deployment it cannot read as webhook.received with the reason', async () => {
    const { deployment_id: _, ...hook } = syntheticDeploymentHook('running');
    const e = await normalize('Deployment Hook', hook);
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { project: 'acme/payments', reason: 'missing_field:deployment_id', action: 'running' },
    });
  });
});

describe('normalizeGitlab: the Pipeline Hook of a deploy job waiting for approval', () => {
  it('opens one gate for the manual deploy job, released by playing that job', async () => {
    const e = await normalize('Pipeline Hook', gitlabFixture('synthetic-pipeline.manual-deploy'), {
      instance: 'https://gitlab.acme.example',
    });
    expect(e.type).toBe('dev.changegate.deployment.requested');
    expect(e.key).toBe('gitlab/acme/payments/job-9301');
    expect(e.data).toMatchObject({
      provider: 'gitlab',
      project: 'acme/payments',
      event: 'Pipeline Hook',
      environment: 'production',
      deploymentId: 'job-9301',
      correlationId: 'gitlab/acme/payments/job-9301',
      run: {
        id: '9301',
        url: 'https://gitlab.acme.example/acme/payments/-/jobs/9301',
        name: 'deploy-production',
      },
      commit: { sha: '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e', ref: 'main' },
      actor: 'mona',
      changeNumber: 'CHG0031337',
      description: 'Add idempotent refunds',
      callback: {
        kind: 'gitlab',
        url: 'https://gitlab.acme.example/api/v4/projects/30/jobs/9301/play',
        params: { projectId: '30', jobId: '9301', environment: 'production' },
      },
    });
  });

  it("the deployment hooks that follow share the gate's correlation id", async () => {
    const gate = await normalize(
      'Pipeline Hook',
      gitlabFixture('synthetic-pipeline.manual-deploy'),
    );
    const started = await normalize('Deployment Hook', syntheticDeploymentHook('running'));
    expect(started.data).toMatchObject({
      correlationId: (gate.data as { correlationId: string }).correlationId,
    });
  });

  it('opens no gate for the docs example: its manual production job is skipped', async () => {
    const events = await normalizeAll('Pipeline Hook', gitlabDocPayload('pipeline'));
    expect(events.map((e) => e.type)).toEqual(['dev.changegate.pipeline.succeeded']);
    expect(events[0]).toMatchObject({
      key: 'gitlab/gitlab-org/gitlab-test/pipeline-31',
      data: {
        status: 'succeeded',
        pipeline: 'Pipeline for branch: master',
        run: { id: '31', url: 'http://example.com/gitlab-org/gitlab-test/-/pipelines/31' },
        commit: { sha: 'bcbb5ec396a2c0f828686f14fac9b80b780504f2', ref: 'master' },
        actor: 'root',
        failures: [
          { name: 'test-build', url: 'http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/378' },
        ],
      },
    });
  });

  it("names the docs example's commit author (the hook's only commit identity)", async () => {
    const [e] = await normalizeAll('Pipeline Hook', gitlabDocPayload('pipeline'));
    const data = e!.data as { commit: Record<string, unknown> };
    // pipeline.json: commit.author { name: "User", email: "user@gitlab.com" }; no committer.
    expect(data.commit.author).toEqual({ name: 'User', email: 'user@gitlab.com' });
    expect(data.commit.committer).toBeUndefined();
  });

  it("gives a gate the commit author, never GitLab's [REDACTED] placeholder as an e-mail", async () => {
    const e = await normalize('Pipeline Hook', gitlabFixture('synthetic-pipeline.manual-deploy'));
    const data = e.data as { commit: Record<string, unknown>; pullRequestAuthor?: unknown };
    expect(data.commit.author).toEqual({ name: 'Mona Lisa' });
    // The hook's merge_request carries no author (Gitlab::DataBuilder::Pipeline): none is named.
    expect(data.pullRequestAuthor).toBeUndefined();
  });

  it('builds the play URL from web_url when X-Gitlab-Instance names another host', async () => {
    expect(
      gitlabInstanceUrl(
        'https://evil.example',
        'https://gitlab.acme.example/acme/payments',
        'acme/payments',
      ),
    ).toBe('https://gitlab.acme.example');
    const e = await normalize('Pipeline Hook', gitlabFixture('synthetic-pipeline.manual-deploy'), {
      instance: 'evil.example',
    });
    expect(e.data).toMatchObject({
      callback: { url: 'https://gitlab.acme.example/api/v4/projects/30/jobs/9301/play' },
    });
  });

  it('finds the change number in the commit trailer', () => {
    const p = PipelinePayload.parse(gitlabFixture('synthetic-pipeline.manual-deploy'));
    expect(pipelineChangeNumber(p)).toBe('CHG0031337');
    expect(
      pipelineChangeNumber(PipelinePayload.parse(gitlabDocPayload('pipeline'))),
    ).toBeUndefined();
  });

  it('truncates raw over the cap', async () => {
    const p = gitlabDocPayload('pipeline');
    const bytes = new TextEncoder().encode(JSON.stringify(p)).byteLength;
    const [e] = await normalizeAll('Pipeline Hook', p, { context: { ...ctx, rawMaxBytes: 100 } });
    expect(e!.data).toHaveProperty('raw', { truncated: true, bytes, payload: null });
  });
});

describe('gitlabInstanceUrl', () => {
  const web = 'https://gitlab.acme.example/gitlab/acme/payments';
  it('keeps a relative URL root from web_url when there is no header', () => {
    expect(gitlabInstanceUrl(null, web, 'acme/payments')).toBe(
      'https://gitlab.acme.example/gitlab',
    );
  });
  it('uses X-Gitlab-Instance (URL or bare host) when it names the web_url host', () => {
    expect(gitlabInstanceUrl('https://gitlab.acme.example/gitlab/', web, 'acme/payments')).toBe(
      'https://gitlab.acme.example/gitlab',
    );
    expect(gitlabInstanceUrl('gitlab.acme.example', web, 'acme/payments')).toBe(
      'https://gitlab.acme.example',
    );
  });
});

describe('normalizeGitlab: every example of webhook_events.md', () => {
  it.each(GITLAB_DOC_EXAMPLES)(
    'normalizes $name ($event) without an error',
    async ({ name, event }) => {
      const events = await normalizeAll(event, gitlabDocPayload(name));
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(e.data).not.toHaveProperty('reason');
    },
  );

  it('maps the docs Job Hook to webhook.received keyed by its pipeline', async () => {
    const e = await normalize('Job Hook', gitlabDocPayload('job'));
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'gitlab/gitlab-org/gitlab-test/pipeline-2366',
      data: { action: 'created', event: 'Job Hook' },
    });
  });

  it('maps a Push Hook (also what the Test button sends) to webhook.received', async () => {
    const e = await normalize('Push Hook', gitlabDocPayload('push'));
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'gitlab/mike/diaspora/push',
      data: { action: 'push', project: 'mike/diaspora' },
    });
  });

  it('files group events under the group', async () => {
    const member = await normalize('Member Hook', gitlabDocPayload('member.add'));
    expect(member.data).toMatchObject({ project: 'webhook-test', action: 'user_add_to_group' });
    const token = await normalize(
      'Resource Access Token Hook',
      gitlabDocPayload('access_token.group'),
    );
    expect(token.data).toMatchObject({ project: 'twitter' });
  });

  it('rejects a delivery without X-Gitlab-Event', async () => {
    const request = verified(
      gitlabRequest('Push Hook', gitlabDocPayload('push'), { omit: ['x-gitlab-event'] }),
      'k',
    );
    expect(await reason(normalizeGitlab(request, ctx))).toBe('missing_header:x-gitlab-event');
  });

  it('publishes an event that names no project under unknown', async () => {
    const e = await normalize('Push Hook', { object_kind: 'push' });
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { project: 'unknown' },
    });
  });
});
