import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../../../src/events/index.js';
import { normalizeGithub } from '../../../../../src/providers/github/receiver/normalize.js';
import type { NormalizeContext } from '../../../../../src/receivers/types.js';
import { githubRequest, verified } from '../../../../fixtures/github-request.js';

/**
 * The normalizer on GitHub's recorded payloads (`@octokit/webhooks-examples`, unedited) of the
 * events it maps: what each becomes follows from the recording's own fields, stated here
 * independently of the code (deployment_status state → deployment event; completed workflow_run
 * conclusion → pipeline event; everything else `webhook.received`).
 */

const require = createRequire(import.meta.url);
type Example = Record<string, unknown> & { action?: string };
const sets = require('@octokit/webhooks-examples/api.github.com/index.json') as {
  name: string;
  examples: Example[];
}[];
const examplesOf = (name: string) =>
  sets
    .find((s) => s.name === name)!
    .examples.map((e, i) => [`${name}[${i}] ${e.action ?? ''}`, e] as const);

const ctx: NormalizeContext = {
  now: new Date('2026-12-01T09:00:00Z'),
  rawMaxBytes: 256 * 1024,
  seal: () => Promise.reject(new Error('GitHub seals nothing')),
};

async function normalizeOne(event: string, payload: unknown) {
  const request = verified(
    githubRequest(event, payload, { secret: 's', deliveryId: 'rec-1' }),
    'rec-1',
  );
  const result = await normalizeGithub(request, ctx);
  if (result.kind !== 'events') throw new Error(`expected events, got ${result.kind}`);
  expect(result.events).toHaveLength(1);
  const [e] = result.events;
  buildEvent(e!, { id: 'rec-1', source: '/changegate/github', time: ctx.now });
  return e!;
}

const STATE_TYPE: Record<string, string> = {
  success: 'dev.changegate.deployment.succeeded',
  failure: 'dev.changegate.deployment.failed',
  error: 'dev.changegate.deployment.failed',
  in_progress: 'dev.changegate.deployment.started',
};

const CONCLUSION_TYPE: Record<string, string> = {
  success: 'dev.changegate.pipeline.succeeded',
  failure: 'dev.changegate.pipeline.failed',
  timed_out: 'dev.changegate.pipeline.failed',
  startup_failure: 'dev.changegate.pipeline.failed',
  cancelled: 'dev.changegate.pipeline.failed',
};

describe('recorded GitHub payloads through the normalizer', () => {
  it.each(examplesOf('deployment_status'))('%s', async (_, p) => {
    const status = p.deployment_status as { state: string; environment?: string };
    const deployment = p.deployment as { id: number; sha: string; environment: string };
    const run = p.workflow_run as { id: number } | null | undefined;
    const environment = status.environment || deployment.environment;
    const e = await normalizeOne('deployment_status', p);
    expect(e.type).toBe(STATE_TYPE[status.state] ?? 'dev.changegate.webhook.received');
    const id = run ? `run-${run.id}-${environment}` : `deployment-${deployment.id}`;
    expect(e.key).toBe(`github/${(p.repository as { full_name: string }).full_name}/${id}`);
    if (e.type !== 'dev.changegate.webhook.received') {
      expect(e.data).toMatchObject({ environment, commit: { sha: deployment.sha } });
    }
  });

  it.each(examplesOf('workflow_run'))('%s', async (_, p) => {
    const run = p.workflow_run as {
      id: number;
      conclusion: string | null;
      head_commit: {
        message: string;
        author: { name: string; email: string | null; username?: string };
        committer: { name: string; email: string | null; username?: string };
      };
    };
    const e = await normalizeOne('workflow_run', p);
    // Only a completed run with one of these conclusions is a pipeline result; anything else
    // (requested, neutral, skipped, action_required…) is published as received, not guessed.
    const result = p.action === 'completed' ? CONCLUSION_TYPE[run.conclusion ?? ''] : undefined;
    expect(e.type).toBe(result ?? 'dev.changegate.webhook.received');
    expect(e.key).toMatch(new RegExp(`/run-${run.id}$`));
    if (e.type !== 'dev.changegate.webhook.received') {
      // The git identities of the head commit, as recorded (login where GitHub matched one).
      const person = (g: { name: string; email: string | null; username?: string }) => ({
        ...(g.username ? { login: g.username } : {}),
        name: g.name,
        ...(g.email ? { email: g.email } : {}),
      });
      expect(e.data).toMatchObject({
        commit: {
          message: run.head_commit.message,
          author: person(run.head_commit.author),
          committer: person(run.head_commit.committer),
        },
      });
    }
  });

  it.each([...examplesOf('workflow_job'), ...examplesOf('check_suite')])('%s', async (name, p) => {
    const event = name.split('[')[0]!;
    const e = await normalizeOne(event, p);
    expect(e.type).toBe('dev.changegate.webhook.received');
    const id =
      event === 'workflow_job'
        ? `run-${(p.workflow_job as { run_id: number }).run_id}`
        : `check-suite-${(p.check_suite as { id: number }).id}`;
    expect(e.key).toBe(`github/${(p.repository as { full_name: string }).full_name}/${id}`);
  });

  it('the package has no recorded deployment_protection_rule (its shape is checked against the webhook schema instead)', () => {
    expect(sets.find((s) => s.name === 'deployment_protection_rule')).toBeUndefined();
  });
});
