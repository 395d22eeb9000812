import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallbackClients, type CallbackClients } from '../../../src/ci/index.js';
import { CiSchema } from '../../../src/config/ci.js';
import type { Callback } from '../../../src/events/common.js';
import { createSealer } from '../../../src/security/seal.js';
import { startCiEmulator, type CiEmulator } from '../../../src/sandbox/ci/index.js';
import { z } from 'zod';
import { CommitResponse } from '../../../src/providers/github/commits.js';
import {
  githubOpenapi,
  judge,
  recordingFetch,
  responsePathProblems,
  type RecordedExchange,
} from '../../support/github-openapi.js';

/**
 * Every request the GitHub client sends, and every answer the emulator gives it, judged by
 * GitHub's published REST description rather than by our own reading of the docs: the method and
 * path must be an operation GitHub documents, the JSON body must fit its request schema, and the
 * status and body of the answer must be ones it documents.
 */

const SHA = '7638417db6d59f3c431d3e1f261cc637155684cd';
let ci: CiEmulator;
let clients: CallbackClients;
const recorder = recordingFetch();

beforeAll(async () => {
  ci = await startCiEmulator();
  const config = CiSchema.parse({
    allowLoopback: true,
    timeoutMs: 5_000,
    github: {
      appId: ci.credentials.githubAppId,
      privateKey: ci.credentials.githubAppPrivateKey,
      apiUrl: ci.url,
    },
  });
  clients = createCallbackClients(config, {
    sealer: createSealer(randomBytes(32)),
    fetchImpl: recorder.impl,
  });
});
afterAll(async () => ci?.close());

const gate = (run: number, installationId = '51234567', env = 'production'): Callback => ({
  kind: 'github',
  url: ci.github.pending('acme', 'payments', run, env),
  params: { installationId, environment: env },
});

/** Drive every path of the client: approve, reject, status comment, repeat, commit reads. */
async function exerciseClient(): Promise<RecordedExchange[]> {
  recorder.exchanges.length = 0;
  const approved = gate(4001);
  await clients.comment(approved, 'Waiting for CHG0030001 (Assess)');
  await clients.decide(approved, { outcome: 'approve', comment: 'CHG0030001 approved' });
  await clients.decide(approved, { outcome: 'approve', comment: 'CHG0030001 approved' });
  await clients.comment(approved, 'nothing pending any more');
  await clients.decide(gate(4002), { outcome: 'reject', comment: 'CHG0030002 rejected by CAB' });
  // A revoked installation token: renewed once.
  const renewed = gate(4003, '51234568');
  await clients.comment(renewed, 'first');
  ci.failNext('github', 401);
  await clients.decide(renewed, { outcome: 'approve', comment: 'x'.repeat(2000) });

  ci.github.commit('acme', 'payments', SHA, 'Refunds\n\nChange: CHG0031337', '51234567');
  ci.github.commit('acme', 'ledger', SHA, 'Ledger', '51234999', {
    // No GitHub account has this e-mail: GitHub answers `author: null`.
    author: { name: 'Build Bot', email: 'bot@ci.acme.example', login: null },
  });
  const ref = { provider: 'github', project: 'acme/payments', sha: SHA };
  await clients.commits.commitOf({ ...ref, installationId: '51234567' });
  await clients.commits.commitOf({ ...ref, project: 'acme/ledger' });
  await clients.commits.commitOf({ ...ref, sha: 'f'.repeat(40), installationId: '51234567' });
  return [...recorder.exchanges];
}

describe(`GitHub client against ${githubOpenapi.file}@${githubOpenapi.version}`, () => {
  it('sends only documented requests and is answered only as GitHub documents', async () => {
    const exchanges = await exerciseClient();
    const verdicts = exchanges.map((x) => ({ x, ...judge(x, ci.url) }));
    const problems = verdicts.flatMap((v) =>
      v.problems.map((p) => `${v.x.method} ${new URL(v.x.url).pathname} → ${v.x.status}: ${p}`),
    );
    expect(problems).toEqual([]);
    expect(new Set(verdicts.map((v) => v.operationId))).toEqual(
      new Set([
        'apps/create-installation-access-token',
        'actions/review-custom-gates-for-run',
        'apps/get-repo-installation',
        'repos/get-commit',
      ]),
    );
    // Each request carries GitHub's media type and the API version it was written against.
    for (const { headers } of exchanges) {
      expect(headers.accept).toBe('application/vnd.github+json');
      expect(headers['x-github-api-version']).toBe('2022-11-28');
      expect(headers['user-agent']).toBeTruthy();
    }
  });

  it('reads of a commit only fields GitHub documents in its answer', () => {
    const paths = leafPaths(z.toJSONSchema(CommitResponse, { io: 'input' }) as Json);
    expect(paths.sort()).toEqual([
      'author.login',
      'commit.author.email',
      'commit.author.name',
      'commit.committer.email',
      'commit.committer.name',
      'commit.message',
      'committer.login',
    ]);
    expect(responsePathProblems('repos/get-commit', 200, paths)).toEqual([]);
    // The check can fail: a field GitHub's commit answer does not have.
    expect(responsePathProblems('repos/get-commit', 200, ['commit.author.login'])).toEqual([
      'commit.author.login: no login',
    ]);
  });

  it('flags what GitHub would refuse (the judge can fail)', () => {
    const review = `${ci.url}/repos/acme/payments/actions/runs/1/deployment_protection_rule`;
    const base = { method: 'POST', url: review, headers: { 'content-type': 'application/json' } };
    expect(
      judge({ ...base, body: '{"environment_name":"p"}', status: 204, responseText: '' }, ci.url)
        .problems,
    ).not.toEqual([]);
    expect(
      judge(
        { ...base, body: '{"environment_name":"p","state":"ok"}', status: 204, responseText: '' },
        ci.url,
      ).problems,
    ).not.toEqual([]);
    expect(
      judge({ ...base, method: 'PUT', body: '{}', status: 204, responseText: '' }, ci.url).problems,
    ).toEqual([`no PUT /repos/acme/payments/actions/runs/1/deployment_protection_rule`]);
    expect(
      judge(
        {
          ...base,
          method: 'GET',
          url: `${ci.url}/repos/a/b/commits/x`,
          status: 200,
          responseText: '{}',
        },
        ci.url,
      ).problems.some((p) => p.startsWith('response 200')),
    ).toBe(true);
  });
});

type Json = { [key: string]: unknown };

/** The leaf field paths of a JSON Schema made from a zod schema (objects, through anyOf). */
function leafPaths(schema: Json, prefix = ''): string[] {
  const options = (schema.anyOf as Json[] | undefined) ?? [schema];
  return options.flatMap((option) => {
    const props = option.properties as Record<string, Json> | undefined;
    if (!props) return [];
    return Object.entries(props).flatMap(([name, sub]) => {
      const path = prefix ? `${prefix}.${name}` : name;
      const below = leafPaths(sub, path);
      return below.length > 0 ? below : [path];
    });
  });
}
