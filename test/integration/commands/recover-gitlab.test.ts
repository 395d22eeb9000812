import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverGitlab } from '../../../src/commands/recover-gitlab.js';
import type { Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { changesOf, theChange } from '../flow/flow-support.js';

/**
 * `changegate recover gitlab` against the CI emulator: a deploy job waits for approval but its
 * Pipeline Hook never reached changegate.
 */

let stack: Stack;
let config: Config;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  stack = await startStack();
  const host = new URL(stack.ci.url).host;
  config = {
    ...stack.config,
    ci: {
      ...stack.config.ci,
      gitlab: {
        [host]: { token: stack.ci.credentials.gitlabToken, url: stack.ci.url, projects: ['41'] },
      },
    },
  };
});
afterAll(async () => stack?.close());

describe('changegate recover gitlab', () => {
  it('registers the missed gate once, and a second run registers nothing new', async () => {
    // No hook target: GitLab's deliveries were lost.
    const missed = await stack.ci.gitlab.pipeline({ projectId: 41, projectPath: 'acme/missed' });
    // A plain manual deploy job GitLab does not hold for approval: not a gate.
    const plain = await stack.ci.gitlab.pipeline({ projectId: 41, requiredApprovals: 0 });
    const lines: string[] = [];

    const dry = await recoverGitlab({ config, bus: stack.bus, log, dryRun: true });
    expect(dry).toEqual({ projects: 1, waiting: 1, registered: 1, known: 0 });
    expect(changesOf(stack, `gitlab/acme/missed/job-${missed.jobId}`)).toHaveLength(0);

    const first = await recoverGitlab({
      config,
      bus: stack.bus,
      log,
      write: (l) => lines.push(l),
    });
    expect(first).toEqual({ projects: 1, waiting: 1, registered: 1, known: 0 });
    expect(lines).toEqual([`acme/missed job ${missed.jobId} (production): registering`]);

    // The gate opens exactly as from the Pipeline Hook: CR, approval, approve + play.
    const correlationId = `gitlab/acme/missed/job-${missed.jobId}`;
    const cr = await theChange(stack, correlationId, (r) => r.approval === 'requested');
    await eventually(async () => {
      const again = await recoverGitlab({ config, bus: stack.bus, log, dryRun: true });
      return again.known === 1 && again.registered === 0;
    });
    const second = await recoverGitlab({ config, bus: stack.bus, log });
    expect(second).toEqual({ projects: 1, waiting: 1, registered: 0, known: 1 });

    stack.servicenow.admin.approve(cr.number!);
    await stack.ci.waitFor(
      (c) => c.path === `/api/v4/projects/41/jobs/${missed.jobId}/play` && c.effect === 'released',
      10_000,
    );
    expect(changesOf(stack, correlationId)).toHaveLength(1);
    expect(stack.ci.gitlab.job(41, plain.jobId)).toMatchObject({ status: 'manual', plays: 0 });
  });
});
