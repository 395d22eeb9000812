import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { coerceError } from '../../errors.js';
import { fault, open, reply } from './http.js';
import type { Recorder } from './recorder.js';

/**
 * Emulated GitHub: App installation tokens and custom deployment protection rule reviews
 * (204 on a pending gate, 422 "No pending custom deployment requests…" otherwise, as github's
 * server code answers).
 */

export type GateState = 'pending' | 'approved' | 'rejected';

export interface GithubEmulator {
  /** Register a waiting gate; returns its `deployment_callback_url`. */
  pending(owner: string, repo: string, runId: string | number, environment: string): string;
  state(
    owner: string,
    repo: string,
    runId: string | number,
    environment: string,
  ): GateState | undefined;
}

export interface GithubEmulatorOptions {
  publicKeyPem: string;
  appId?: string | undefined;
  baseUrl: () => string;
}

const NO_PENDING = (run: string) =>
  `No pending custom deployment requests in workflow run \`${run}\` to approve or reject`;

/** Mount the emulated GitHub routes (App tokens, protection-rule reviews) on `app`; returns the handle that registers pending gates. */
export function mountGithub(app: Hono, rec: Recorder, opts: GithubEmulatorOptions): GithubEmulator {
  const gates = new Map<string, GateState>();
  const tokens = new Set<string>();
  let key: Promise<CryptoKey> | undefined;
  const keyOf = (o: string, r: string, run: string, env: string) => `${o}/${r}/${run}/${env}`;

  app.post('/app/installations/:id/access_tokens', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const jwt = c.req.header('authorization')?.replace(/^Bearer /i, '') ?? '';
    try {
      key ??= importSPKI(opts.publicKeyPem, 'RS256');
      const { payload } = await jwtVerify(jwt, await key, {
        algorithms: ['RS256'],
        ...(opts.appId ? { issuer: opts.appId } : {}),
      });
      // GitHub refuses an App JWT that expires more than 10 minutes ahead.
      if (!payload.exp || payload.exp - Date.now() / 1000 > 600) throw new Error('exp too far');
    } catch (err) {
      return reply(x, 401, 'refused', {
        message: `A JSON web token could not be decoded (${coerceError(err).message})`,
      });
    }
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    tokens.add(token);
    const expires_at = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return reply(x, 201, 'token', { token, expires_at, permissions: { deployments: 'write' } });
  });

  app.post('/repos/:owner/:repo/actions/runs/:run/deployment_protection_rule', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const { owner, repo, run } = c.req.param();
    const token = c.req.header('authorization')?.replace(/^Bearer /i, '') ?? '';
    if (!tokens.has(token)) return reply(x, 401, 'refused', { message: 'Bad credentials' });
    const body = (typeof x.body === 'object' && x.body ? x.body : {}) as Record<string, unknown>;
    const env = body.environment_name;
    const state = body.state;
    if (
      typeof env !== 'string' ||
      (state !== undefined && state !== 'approved' && state !== 'rejected')
    ) {
      return reply(x, 422, 'refused', { message: 'Invalid request.' });
    }
    const k = keyOf(owner, repo, run, env);
    if (gates.get(k) !== 'pending')
      return reply(x, 422, 'not-pending', { message: NO_PENDING(run) });
    if (state === undefined) return reply(x, 204, 'comment');
    gates.set(k, state);
    return reply(x, 204, state === 'approved' ? 'released' : 'rejected');
  });

  return {
    pending(owner, repo, runId, environment) {
      gates.set(keyOf(owner, repo, String(runId), environment), 'pending');
      return `${opts.baseUrl()}/repos/${owner}/${repo}/actions/runs/${runId}/deployment_protection_rule`;
    },
    state: (owner, repo, runId, environment) =>
      gates.get(keyOf(owner, repo, String(runId), environment)),
  };
}
