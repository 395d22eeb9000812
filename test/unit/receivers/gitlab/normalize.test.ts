import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../../src/errors.js';
import { buildEvent, type NormalizedEvent } from '../../../../src/events/index.js';
import { gitlabInstanceUrl } from '../../../../src/receivers/gitlab/callback-url.js';
import {
  normalizeGitlab,
  pipelineChangeNumber,
} from '../../../../src/receivers/gitlab/normalize.js';
import { PipelinePayload } from '../../../../src/receivers/gitlab/payloads.js';
import type { NormalizeContext } from '../../../../src/receivers/types.js';
import { verified } from '../../../fixtures/github-request.js';
import { gitlabFixture, gitlabRequest } from '../../../fixtures/gitlab-request.js';

const ctx: NormalizeContext = {
  now: new Date('2026-03-04T09:00:00Z'),
  rawMaxBytes: 256 * 1024,
  seal: () => Promise.reject(new Error('GitLab seals nothing')),
};

async function normalize(
  event: string,
  payload: unknown,
  { context = ctx, instance }: { context?: NormalizeContext; instance?: string | null } = {},
) {
  const request = verified(gitlabRequest(event, payload, { token: 't', instance }), 'idem-1');
  const result = await normalizeGitlab(request, context);
  if (result.kind !== 'events') throw new Error(`expected events, got ${result.kind}`);
  for (const e of result.events)
    buildEvent(e, { id: 'idem-1', source: '/hooks/gitlab', time: ctx.now });
  expect(result.events).toHaveLength(1);
  return result.events[0]!;
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PayloadError);
  return (err as PayloadError).reason;
}

describe('normalizeGitlab: Deployment Hook', () => {
  it('maps blocked to deployment.requested with the approval callback', async () => {
    const e: NormalizedEvent = await normalize(
      'Deployment Hook',
      gitlabFixture('deployment.blocked'),
    );
    expect(e.type).toBe('dev.changegate.deployment.requested');
    expect(e.key).toBe('gitlab/acme/payments/1542');
    expect(e.subject).toBe(e.key);
    expect(e.data).toMatchObject({
      provider: 'gitlab',
      project: 'acme/payments',
      event: 'Deployment Hook',
      deliveryId: 'idem-1',
      environment: 'production',
      deploymentId: '1542',
      correlationId: 'gitlab/acme/payments/1542',
      run: { id: '796001', url: 'https://gitlab.acme.example/acme/payments/-/jobs/796001' },
      commit: { sha: '279484c09fbe69ededfced8c1bb6e6d24616b468', ref: 'main' },
      actor: 'mona',
      changeNumber: 'CHG0031337',
      callback: {
        kind: 'gitlab',
        url: 'https://gitlab.acme.example/api/v4/projects/30/deployments/1542/approval',
        params: { projectId: '30', deploymentId: '1542', environment: 'production' },
      },
      raw: { truncated: false },
    });
  });

  it.each([
    ['running', 'dev.changegate.deployment.started'],
    ['success', 'dev.changegate.deployment.succeeded'],
    ['failed', 'dev.changegate.deployment.failed'],
    ['canceled', 'dev.changegate.deployment.failed'],
    ['approved', 'dev.changegate.webhook.received'],
    ['rejected', 'dev.changegate.webhook.received'],
    ['created', 'dev.changegate.webhook.received'],
  ])('maps status %s to %s, keyed by the deployment', async (status, type) => {
    const p = gitlabFixture('deployment.success');
    p.status = status;
    const e = await normalize('Deployment Hook', p);
    expect(e.type).toBe(type);
    expect(e.key).toBe('gitlab/acme/payments/1542');
    expect(e.data).not.toHaveProperty('callback');
  });

  it('rejects a deployment without deployment_id', async () => {
    const p = gitlabFixture('deployment.blocked');
    delete p.deployment_id;
    expect(await reason(normalize('Deployment Hook', p))).toBe('missing_field:deployment_id');
  });

  it('rejects a deployment without project.path_with_namespace', async () => {
    const p = gitlabFixture('deployment.blocked');
    delete (p.project as Record<string, unknown>).path_with_namespace;
    expect(await reason(normalize('Deployment Hook', p))).toBe(
      'missing_field:project.path_with_namespace',
    );
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
  it('ignores an X-Gitlab-Instance that points to another host', async () => {
    expect(gitlabInstanceUrl('https://evil.example', web, 'acme/payments')).toBe(
      'https://gitlab.acme.example/gitlab',
    );
    const e = await normalize('Deployment Hook', gitlabFixture('deployment.blocked'), {
      instance: 'evil.example',
    });
    expect(e.data).toMatchObject({
      callback: { url: 'https://gitlab.acme.example/api/v4/projects/30/deployments/1542/approval' },
    });
  });
});

describe('normalizeGitlab: Pipeline Hook', () => {
  it('maps failed to pipeline.failed with failed builds as failures', async () => {
    const e = await normalize('Pipeline Hook', gitlabFixture('pipeline.failed'));
    expect(e.type).toBe('dev.changegate.pipeline.failed');
    expect(e.key).toBe('gitlab/acme/payments/pipeline-4711');
    expect(e.data).toMatchObject({
      status: 'failed',
      pipeline: 'Deploy main',
      environment: 'production',
      run: { id: '4711', url: 'https://gitlab.acme.example/acme/payments/-/pipelines/4711' },
      commit: { sha: '279484c09fbe69ededfced8c1bb6e6d24616b468', ref: 'main' },
      actor: 'mona',
      failures: [{ name: 'unit', url: 'https://gitlab.acme.example/acme/payments/-/jobs/9002' }],
    });
  });

  it.each([
    ['success', 'dev.changegate.pipeline.succeeded', 'succeeded'],
    ['canceled', 'dev.changegate.pipeline.failed', 'canceled'],
  ])('maps %s to %s', async (status, type, dataStatus) => {
    const p = gitlabFixture('pipeline.failed');
    (p.object_attributes as { status: string }).status = status;
    const e = await normalize('Pipeline Hook', p);
    expect(e.type).toBe(type);
    expect(e.data).toMatchObject({ status: dataStatus });
  });

  it.each(['running', 'pending', 'created', 'manual', 'skipped'])(
    'maps %s to webhook.received',
    async (status) => {
      const p = gitlabFixture('pipeline.failed');
      (p.object_attributes as { status: string }).status = status;
      const e = await normalize('Pipeline Hook', p);
      expect(e).toMatchObject({
        type: 'dev.changegate.webhook.received',
        data: { action: status },
      });
    },
  );

  it('finds the change number in a pipeline variable before the commit trailer', () => {
    const p = PipelinePayload.parse(gitlabFixture('pipeline.failed'));
    expect(pipelineChangeNumber(p)).toBe('CHG0042424');
    p.object_attributes.variables = [];
    expect(pipelineChangeNumber(p)).toBe('CHG0031337');
  });

  it('rejects a pipeline without object_attributes.status', async () => {
    const p = gitlabFixture('pipeline.failed');
    delete (p.object_attributes as Record<string, unknown>).status;
    expect(await reason(normalize('Pipeline Hook', p))).toBe(
      'missing_field:object_attributes.status',
    );
  });

  it('truncates raw over the cap', async () => {
    const p = gitlabFixture('pipeline.failed');
    const bytes = new TextEncoder().encode(JSON.stringify(p)).byteLength;
    const e = await normalize('Pipeline Hook', p, { context: { ...ctx, rawMaxBytes: 100 } });
    expect(e.data).toHaveProperty('raw', { truncated: true, bytes, payload: null });
  });
});

describe('normalizeGitlab: other events', () => {
  it('maps Job Hook to webhook.received keyed by its pipeline', async () => {
    const e = await normalize('Job Hook', gitlabFixture('job.running'));
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'gitlab/acme/payments/pipeline-4711',
      data: { action: 'running', event: 'Job Hook' },
    });
  });

  it('maps a Push Hook (also what the Test button sends) to webhook.received', async () => {
    const e = await normalize('Push Hook', gitlabFixture('push'));
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      key: 'gitlab/acme/payments/push',
      data: { action: 'push', project: 'acme/payments' },
    });
  });

  it('rejects a delivery without X-Gitlab-Event', async () => {
    const request = verified(
      gitlabRequest('Push Hook', gitlabFixture('push'), { omit: ['x-gitlab-event'] }),
      'k',
    );
    expect(await reason(normalizeGitlab(request, ctx))).toBe('missing_header:x-gitlab-event');
  });

  it('rejects an event that names no project', async () => {
    expect(await reason(normalize('Push Hook', { object_kind: 'push' }))).toBe(
      'missing_field:project.path_with_namespace',
    );
  });
});
