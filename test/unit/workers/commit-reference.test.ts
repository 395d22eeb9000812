import { describe, expect, it } from 'vitest';
import type { CommitMessages, CommitRef } from '../../../src/ci/commits.js';
import { ChangePolicySchema } from '../../../src/config/changes.js';
import { DeploymentDataSchema } from '../../../src/events/cicd.js';
import { withCommitReference } from '../../../src/workers/commit-reference.js';

const SHA = '7638417db6d59f3c431d3e1f261cc637155684cd';

function recording(message: string | undefined) {
  const asked: CommitRef[] = [];
  const port: CommitMessages = {
    messageOf: async (ref) => {
      asked.push(ref);
      return message;
    },
  };
  return { asked, port };
}

const deployment = (extra: Record<string, unknown> = {}) =>
  DeploymentDataSchema.parse({
    provider: 'github',
    project: 'acme/payments',
    event: 'deployment_protection_rule',
    deliveryId: 'd-1',
    raw: { truncated: false, bytes: 2, payload: {} },
    environment: 'production',
    deploymentId: 'run-1-production',
    correlationId: 'github/acme/payments/run-1-production',
    commit: { sha: SHA, ref: 'main' },
    callback: {
      kind: 'github',
      url: 'https://api.github.com/repos/acme/payments/actions/runs/1/deployment_protection_rule',
      params: { installationId: '51234567', environment: 'production' },
    },
    ...extra,
  });

// Linking by number is off by default (a commit line must not borrow another team's CR): these
// policies turn it on, as an environment that links by trailer does.
const policy = (extra: Record<string, unknown> = {}) => [
  ChangePolicySchema.parse({
    name: 'prod',
    match: { environment: 'production' },
    link: { byNumber: true },
    ...extra,
  }),
];

describe('withCommitReference', () => {
  it('reads the commit and takes the CR from its Change trailer', async () => {
    const { asked, port } = recording('Fix refunds\n\nChange: CHG0031337\n');
    const d = await withCommitReference(deployment(), policy(), port);
    expect(d.changeNumber).toBe('CHG0031337');
    expect(d.commit.message).toContain('Fix refunds');
    expect(asked).toEqual([
      { provider: 'github', project: 'acme/payments', sha: SHA, installationId: '51234567' },
    ]);
  });

  it('keeps the message but names no CR when the commit names none', async () => {
    const { port } = recording('Fix refunds');
    const d = await withCommitReference(deployment(), policy(), port);
    expect(d.changeNumber).toBeUndefined();
    expect(d.commit.message).toBe('Fix refunds');
  });

  it.each([
    ['the event already names a CR', deployment({ changeNumber: 'CHG0000001' }), policy()],
    [
      'the payload carried the message',
      deployment({ commit: { sha: SHA, message: 'm' } }),
      policy(),
    ],
    ['there is no sha', deployment({ commit: { ref: 'main' } }), policy()],
    ['the policy does not link by number', deployment(), policy({ link: { byNumber: false } })],
    ['the environment is not controlled', deployment(), policy({ mode: 'none' })],
    ['no policy matches', deployment({ environment: 'staging' }), policy()],
  ])('asks nothing when %s', async (_, d, policies) => {
    const { asked, port } = recording('Change: CHG0031337');
    expect(await withCommitReference(d, policies, port)).toBe(d);
    expect(asked).toEqual([]);
  });

  it('passes no installation id for an event without a GitHub callback', async () => {
    const { asked, port } = recording(undefined);
    const d = deployment({ event: 'deployment_status', callback: undefined });
    expect(await withCommitReference(d, policy(), port)).toBe(d);
    expect(asked[0]).toMatchObject({ installationId: undefined });
  });
});
