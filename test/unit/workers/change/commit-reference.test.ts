import { describe, expect, it } from 'vitest';
import type { CommitDetails, CommitLookup, CommitRef } from '../../../../src/ci/commits.js';
import { ChangePolicySchema, GatesSchema } from '../../../../src/config/changes.js';
import { DeploymentDataSchema } from '../../../../src/events/cicd.js';
import { withCommitReference } from '../../../../src/workers/change/commit-reference.js';

const SHA = '7638417db6d59f3c431d3e1f261cc637155684cd';

const JANE = { login: 'jdoe', name: 'Jane Doe', email: 'jane@acme.example' };
const FLOW = { login: 'web-flow', name: 'GitHub', email: 'noreply@github.com' };

function recording(message: string | undefined, people: Omit<CommitDetails, 'message'> = {}) {
  const asked: CommitRef[] = [];
  const port: CommitLookup = {
    commitOf: async (ref) => {
      asked.push(ref);
      return message === undefined && Object.keys(people).length === 0
        ? undefined
        : { ...(message !== undefined ? { message } : {}), ...people };
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
// policies turn it on, as an environment that links by trailer does. Separation of duties is
// off here unless a test turns it on.
const policy = (extra: Record<string, unknown> = {}, gates: Record<string, unknown> = {}) => ({
  changes: {
    policies: [
      ChangePolicySchema.parse({
        name: 'prod',
        match: { environment: 'production' },
        link: { byNumber: true },
        ...extra,
      }),
    ],
  },
  gates: GatesSchema.parse({
    policies: { default: { separationOfDuties: { enabled: false } }, ...gates },
  }),
});

/** Trailer links off, separation of duties on for production-like environments (its default). */
const sod = (extra: Record<string, unknown> = {}) =>
  policy({ link: { byNumber: false }, ...extra }, { default: {} });

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

describe('withCommitReference for separation of duties', () => {
  it('reads the author and committer of a gated deployment whose event names none', async () => {
    const { asked, port } = recording('Fix refunds\n\nChange: CHG0031337', {
      author: JANE,
      committer: FLOW,
    });
    const d = await withCommitReference(deployment(), sod(), port);
    expect(d.commit).toEqual({ sha: SHA, ref: 'main', author: JANE, committer: FLOW });
    // No trailer was wanted (link by number is off): the message names no CR here.
    expect(d.changeNumber).toBeUndefined();
    expect(asked).toHaveLength(1);
  });

  it('keeps the people the event named and adds only the missing one', async () => {
    const named = { name: 'Pat', email: 'pat@acme.example' };
    const { port } = recording(undefined, { author: JANE, committer: FLOW });
    const d = await withCommitReference(
      deployment({ commit: { sha: SHA, author: named } }),
      sod(),
      port,
    );
    expect(d.commit.author).toEqual(named);
    expect(d.commit.committer).toEqual(FLOW);
  });

  it('reads with the gate policy the change policy names', async () => {
    const { asked, port } = recording(undefined, { author: JANE });
    const config = policy(
      { link: { byNumber: false }, gate: 'strict' },
      { strict: { separationOfDuties: { enabled: true } } },
    );
    await withCommitReference(deployment({ environment: 'production' }), config, port);
    expect(asked).toHaveLength(1);
  });

  it.each([
    ['separation of duties is off', deployment(), policy({ link: { byNumber: false } })],
    [
      'the environment is not production-like',
      deployment({ environment: 'staging' }),
      policy({ link: { byNumber: false }, match: { environment: 'staging' } }, { default: {} }),
    ],
    ['nothing waits at a gate (no callback)', deployment({ callback: undefined }), sod()],
    [
      'the event named both',
      deployment({ commit: { sha: SHA, author: JANE, committer: FLOW } }),
      sod(),
    ],
    ['there is no sha', deployment({ commit: { ref: 'main' } }), sod()],
  ])('asks nothing when %s', async (_, d, config) => {
    const { asked, port } = recording(undefined, { author: JANE });
    expect(await withCommitReference(d, config, port)).toBe(d);
    expect(asked).toEqual([]);
  });
});
