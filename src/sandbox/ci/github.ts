import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { coerceError } from '../../errors.js';
import { fault, open, reply, type Exchange } from './http.js';
import { basicError, commit, idOf, installation } from './github-shapes.js';
import type { Recorder } from './recorder.js';

/**
 * Emulated GitHub: App installation tokens, a repository's installation, commits, and custom
 * deployment protection rule reviews (204 on a pending gate, 422 "No pending custom deployment
 * requests…" otherwise, as github's server code answers). Shapes and statuses follow GitHub's
 * REST description (github/rest-api-description, `@octokit/openapi`), per route below.
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
  /**
   * Put a commit in a repository and install the App there (as `installationId`, default one
   * derived from the owner), so `GET …/commits/{sha}` finds it with that installation's token.
   */
  commit(owner: string, repo: string, sha: string, message: string, installationId?: string): void;
}

export interface GithubEmulatorOptions {
  publicKeyPem: string;
  appId?: string | undefined;
  baseUrl: () => string;
}

const BAD_CREDENTIALS = basicError('Bad credentials', 401);
const NOT_FOUND = basicError('Not Found', 404);

const NO_PENDING = (run: string) =>
  `No pending custom deployment requests in workflow run \`${run}\` to approve or reject`;

/** Mount the emulated GitHub routes (App tokens, protection-rule reviews) on `app`; returns the handle that registers pending gates. */
export function mountGithub(app: Hono, rec: Recorder, opts: GithubEmulatorOptions): GithubEmulator {
  const gates = new Map<string, GateState>();
  /** installation token → installation id. */
  const tokens = new Map<string, string>();
  /** `owner/repo` → its installation and commits (sha → message); listed = App installed. */
  const repos = new Map<string, { installationId: string; commits: Map<string, string> }>();
  let key: Promise<CryptoKey> | undefined;
  const keyOf = (o: string, r: string, run: string, env: string) => `${o}/${r}/${run}/${env}`;
  // "you can use Authorization: Bearer or Authorization: token to pass a token. However, if you
  // are passing a JSON web token (JWT), you must use Authorization: Bearer."
  // https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
  const bearer = (x: Exchange) =>
    x.c.req.header('authorization')?.replace(/^(?:Bearer|token) /i, '') ?? '';
  /** A stable installation id per account, like GitHub's (one installation per account). */
  const installationOf = (owner: string) => String(idOf(owner, 51_000_000));

  /** The App JWT check of every `/app/…` route; a Response when refused. */
  async function refuseJwt(x: Exchange): Promise<Response | undefined> {
    try {
      key ??= importSPKI(opts.publicKeyPem, 'RS256');
      const { payload } = await jwtVerify(bearer(x), await key, {
        algorithms: ['RS256'],
        ...(opts.appId ? { issuer: opts.appId } : {}),
      });
      // GitHub refuses an App JWT that expires more than 10 minutes ahead.
      if (!payload.exp || payload.exp - Date.now() / 1000 > 600) throw new Error('exp too far');
      return undefined;
    } catch (err) {
      return reply(x, 401, 'refused', {
        message: `A JSON web token could not be decoded (${coerceError(err).message})`,
      });
    }
  }

  app.post('/app/installations/:id/access_tokens', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    tokens.set(token, c.req.param('id'));
    const expires_at = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return reply(x, 201, 'token', { token, expires_at, permissions: { deployments: 'write' } });
  });

  app.post('/repos/:owner/:repo/actions/runs/:run/deployment_protection_rule', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const { owner, repo, run } = c.req.param();
    const token = bearer(x);
    if (!tokens.has(token)) return reply(x, 401, 'refused', BAD_CREDENTIALS);
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

  // apps/get-repo-installation: 200 with the installation, 404 when the App is not installed.
  // https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
  app.get('/repos/:owner/:repo/installation', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const { owner, repo } = c.req.param();
    const found = repos.get(`${owner}/${repo}`);
    if (!found) return reply(x, 404, 'refused', NOT_FOUND);
    return reply(
      x,
      200,
      'read',
      installation(opts.baseUrl(), {
        id: found.installationId,
        owner,
        appId: opts.appId ?? '0',
      }),
    );
  });

  // repos/get-commit: 200 with `commit.message`; 422 "No commit found for SHA: …" for an unknown
  // sha; 404 for a repository the token cannot see.
  // https://docs.github.com/en/rest/commits/commits#get-a-commit
  app.get('/repos/:owner/:repo/commits/:ref', async (c) => {
    const x = await open(c, 'github', rec);
    const injected = fault(x);
    if (injected) return injected;
    const { owner, repo, ref } = c.req.param();
    if (!tokens.has(bearer(x))) return reply(x, 401, 'refused', BAD_CREDENTIALS);
    const found = repos.get(`${owner}/${repo}`);
    // An installation token sees only the repositories of its installation.
    if (!found || tokens.get(bearer(x)) !== found.installationId) {
      return reply(x, 404, 'refused', NOT_FOUND);
    }
    const message = found.commits.get(ref.toLowerCase());
    if (message === undefined) {
      return reply(x, 422, 'refused', basicError(`No commit found for SHA: ${ref}`, 422));
    }
    return reply(x, 200, 'read', commit(opts.baseUrl(), owner, repo, ref.toLowerCase(), message));
  });

  return {
    commit(owner, repo, sha, message, installationId) {
      const found = repos.get(`${owner}/${repo}`) ?? {
        installationId: installationId ?? installationOf(owner),
        commits: new Map<string, string>(),
      };
      if (installationId) found.installationId = installationId;
      found.commits.set(sha.toLowerCase(), message);
      repos.set(`${owner}/${repo}`, found);
    },
    pending(owner, repo, runId, environment) {
      gates.set(keyOf(owner, repo, String(runId), environment), 'pending');
      return `${opts.baseUrl()}/repos/${owner}/${repo}/actions/runs/${runId}/deployment_protection_rule`;
    },
    state: (owner, repo, runId, environment) =>
      gates.get(keyOf(owner, repo, String(runId), environment)),
  };
}
