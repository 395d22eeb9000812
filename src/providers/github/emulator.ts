import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import { coerceError } from '../../errors.js';
import { fault, open, reply, type Exchange } from '../../sandbox/ci/http.js';
import { basicError, commit, idOf, installation, type CommitPeople } from './emulator-shapes.js';
import { createHookSender, deliveryItem, type HookSender } from './emulator-hooks.js';
import { createRateLimiter, type RateLimitFault } from './emulator-rate-limit.js';
import type { Recorder } from '../../sandbox/ci/recorder.js';

/**
 * Emulated GitHub: App installation tokens, a repository's installation, commits, and custom
 * deployment protection rule reviews. Shapes and statuses follow GitHub's REST description
 * (github/rest-api-description, `@octokit/openapi`) and the docs page named at each route; the
 * review's failure answers follow GitHub's API handler of that operation where the description
 * is silent (see the review route). Rate limits are switched on by `rateLimit()`.
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
   * `people` sets its git author and committer and the GitHub accounts matched to them (default:
   * Mona Lisa, account `mona`, committed through `web-flow`).
   */
  commit(
    owner: string,
    repo: string,
    sha: string,
    message: string,
    installationId?: string,
    people?: CommitPeople,
  ): void;
  /** The App's webhook: where it sends, what it sent (newest first), send a new delivery. */
  hook: HookSender;
  /** Answer GitHub's rate-limit 403/429 to every GitHub request until `times` run out or cleared. */
  rateLimit(fault: RateLimitFault): void;
  clearRateLimit(): void;
}

export interface GithubEmulatorOptions {
  publicKeyPem: string;
  appId?: string | undefined;
  baseUrl: () => string;
}

const BAD_CREDENTIALS = basicError('Bad credentials', 401);
const NOT_FOUND = basicError('Not Found', 404);

const REVIEW_DOC =
  'https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run';
const NO_PENDING = (run: string) =>
  `No pending custom deployment requests in workflow run \`${run}\` to approve or reject`;
/** "You can post a status report on the same deployment up to 10 times. Status reports support
 * Markdown formatting and can be up to 1024 characters long." (github/docs
 * content/actions/how-tos/deploy/configure-and-manage-deployments/create-custom-protection-rules.md) */
const MAX_STATUS_REPORTS = 10;
const MAX_COMMENT = 1024;

interface Gate {
  state: GateState;
  /** Status reports (reviews without `state`) posted so far. */
  reports: number;
}

/**
 * Why a review body fails the operation's request schema (anyOf review-custom-gates-comment-
 * required {environment_name, comment} | review-custom-gates-state-required {environment_name,
 * state ∈ approved|rejected}), or undefined when it fits.
 */
function reviewBodyProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'Body is not an object.';
  const { environment_name: env, state, comment } = body as Record<string, unknown>;
  if (typeof env !== 'string') return '"environment_name" wasn\'t supplied.';
  if (comment !== undefined && typeof comment !== 'string') return '"comment" is not a string.';
  if (state !== undefined && state !== 'approved' && state !== 'rejected') {
    return `"state" is not one of approved, rejected.`;
  }
  if (state === undefined && !comment)
    return 'No subschema in "anyOf" matched: "state" or "comment" is required.';
  return undefined;
}

/** Mount the emulated GitHub routes (App tokens, protection-rule reviews) on `app`; returns the handle that registers pending gates. */
export function mountGithub(app: Hono, rec: Recorder, opts: GithubEmulatorOptions): GithubEmulator {
  const gates = new Map<string, Gate>();
  /** `owner/repo/run` of every run a gate was registered on: other runs are 404. */
  const runs = new Set<string>();
  const limiter = createRateLimiter();
  const hook = createHookSender();
  /** An injected failure (failNext) or a switched-on rate limit answers before the route. */
  function held(x: Exchange): Response | undefined {
    const injected = fault(x);
    if (injected) return injected;
    const limited = limiter.take();
    return limited
      ? reply(x, limited.status, 'rate-limited', limited.body, limited.headers)
      : undefined;
  }
  /** installation token → installation id. */
  const tokens = new Map<string, string>();
  /** `owner/repo` → its installation and commits (by sha); listed = App installed. */
  const repos = new Map<
    string,
    { installationId: string; commits: Map<string, { message: string; people?: CommitPeople }> }
  >();
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
    const stop = held(x);
    if (stop) return stop;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    tokens.set(token, c.req.param('id'));
    const expires_at = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return reply(x, 201, 'token', { token, expires_at, permissions: { deployments: 'write' } });
  });

  // actions/review-custom-gates-for-run. The description documents only 204; GitHub's API
  // handler of the operation (`Api::DeploymentRequests`, a public copy found in the code search,
  // its repository unnamed) checks, in this order: the run exists in the repository (404), the
  // body fits the schema (`receive_with_openapi`, 422), a custom gate is pending for
  // `environment_name` (else 422 "No pending custom deployment requests in workflow run `ID` to
  // approve or reject"), then posts a status report (no `state`, a comment) or the decision;
  // `GateApprovalLog` refusals are 422 too. The answer to an 11th status report and to a comment
  // over 1024 characters is not documented anywhere we found: 422 by that same ArgumentError path.
  app.post('/repos/:owner/:repo/actions/runs/:run/deployment_protection_rule', async (c) => {
    const x = await open(c, 'github', rec);
    const stop = held(x);
    if (stop) return stop;
    const { owner, repo, run } = c.req.param();
    if (!tokens.has(bearer(x))) return reply(x, 401, 'refused', BAD_CREDENTIALS);
    if (!runs.has(`${owner}/${repo}/${run}`)) return reply(x, 404, 'refused', NOT_FOUND);
    const problem = reviewBodyProblem(x.body);
    if (problem) {
      return reply(
        x,
        422,
        'refused',
        basicError(`Invalid request.\n\n${problem}`, 422, REVIEW_DOC),
      );
    }
    const body = x.body as {
      environment_name: string;
      state?: 'approved' | 'rejected';
      comment?: string;
    };
    const gate = gates.get(keyOf(owner, repo, run, body.environment_name));
    if (gate?.state !== 'pending') {
      return reply(x, 422, 'not-pending', basicError(NO_PENDING(run), 422, REVIEW_DOC));
    }
    if ((body.comment ?? '').length > MAX_COMMENT) {
      return reply(
        x,
        422,
        'refused',
        basicError(`Comment is too long (maximum is ${MAX_COMMENT} characters)`, 422, REVIEW_DOC),
      );
    }
    if (body.state === undefined) {
      if (gate.reports >= MAX_STATUS_REPORTS) {
        return reply(
          x,
          422,
          'refused',
          basicError(
            `A deployment takes at most ${MAX_STATUS_REPORTS} status reports`,
            422,
            REVIEW_DOC,
          ),
        );
      }
      gate.reports += 1;
      return reply(x, 204, 'comment');
    }
    gate.state = body.state;
    return reply(x, 204, body.state === 'approved' ? 'released' : 'rejected');
  });

  // apps/get-repo-installation: 200 with the installation, 404 when the App is not installed.
  // https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
  app.get('/repos/:owner/:repo/installation', async (c) => {
    const x = await open(c, 'github', rec);
    const stop = held(x);
    if (stop) return stop;
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
    const stop = held(x);
    if (stop) return stop;
    const { owner, repo, ref } = c.req.param();
    if (!tokens.has(bearer(x))) return reply(x, 401, 'refused', BAD_CREDENTIALS);
    const found = repos.get(`${owner}/${repo}`);
    // An installation token sees only the repositories of its installation.
    if (!found || tokens.get(bearer(x)) !== found.installationId) {
      return reply(x, 404, 'refused', NOT_FOUND);
    }
    const stored = found.commits.get(ref.toLowerCase());
    if (stored === undefined) {
      return reply(x, 422, 'refused', basicError(`No commit found for SHA: ${ref}`, 422));
    }
    return reply(
      x,
      200,
      'read',
      commit(opts.baseUrl(), owner, repo, ref.toLowerCase(), stored.message, stored.people),
    );
  });

  // apps/list-webhook-deliveries: newest first, `per_page` (default 30, max 100), `cursor` from
  // the `Link` header ("Refer to the `link` header for the next and previous page cursors"),
  // `status` success (2xx–3xx) | failure (4xx–5xx). App JWT only.
  // https://docs.github.com/en/rest/apps/webhooks#list-deliveries-for-an-app-webhook
  app.get('/app/hook/deliveries', async (c) => {
    const x = await open(c, 'github', rec);
    const stop = held(x);
    if (stop) return stop;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const perPage = Number(c.req.query('per_page') ?? 30);
    const filter = c.req.query('status');
    const cursor = c.req.query('cursor');
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      return reply(x, 422, 'refused', { ...basicError('Validation Failed', 422), errors: [] });
    }
    if (filter !== undefined && filter !== 'success' && filter !== 'failure') {
      return reply(x, 422, 'refused', { ...basicError('Validation Failed', 422), errors: [] });
    }
    const all = hook
      .log()
      .filter(
        (d) =>
          filter === undefined ||
          (filter === 'success'
            ? d.status_code >= 200 && d.status_code <= 399
            : d.status_code >= 400 && d.status_code <= 599),
      );
    let start = 0;
    if (cursor !== undefined) {
      const id = /^v1_(\d+)$/.exec(cursor)?.[1];
      start = id === undefined ? -1 : all.findIndex((d) => String(d.id) === id);
      if (start < 0) return reply(x, 400, 'refused', basicError('Invalid cursor', 400));
    }
    const page = all.slice(start, start + perPage);
    const next = all[start + perPage];
    const link = next
      ? `<${opts.baseUrl()}/app/hook/deliveries?per_page=${perPage}${filter ? `&status=${filter}` : ''}&cursor=v1_${next.id}>; rel="next"`
      : undefined;
    return reply(x, 200, 'read', page.map(deliveryItem), link ? { link } : {});
  });

  // apps/get-webhook-delivery. https://docs.github.com/en/rest/apps/webhooks#get-a-delivery-for-an-app-webhook
  app.get('/app/hook/deliveries/:id', async (c) => {
    const x = await open(c, 'github', rec);
    const stop = held(x);
    if (stop) return stop;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const found = hook.get(Number(c.req.param('id')));
    return found ? reply(x, 200, 'read', found) : reply(x, 404, 'refused', NOT_FOUND);
  });

  // apps/redeliver-webhook-delivery: 202 Accepted. GitHub queues the redelivery; the emulator
  // sends it before answering, so its log is complete when the caller gets the 202. The answer
  // for an unknown id is not documented (the description lists 202, 400, 422): 404 here.
  // https://docs.github.com/en/rest/apps/webhooks#redeliver-a-delivery-for-an-app-webhook
  app.post('/app/hook/deliveries/:id/attempts', async (c) => {
    const x = await open(c, 'github', rec);
    const stop = held(x);
    if (stop) return stop;
    const refused = await refuseJwt(x);
    if (refused) return refused;
    const sent = await hook.redeliver(Number(c.req.param('id')));
    return sent ? reply(x, 202, 'redelivered', {}) : reply(x, 404, 'refused', NOT_FOUND);
  });

  return {
    commit(owner, repo, sha, message, installationId, people) {
      const found = repos.get(`${owner}/${repo}`) ?? {
        installationId: installationId ?? installationOf(owner),
        commits: new Map(),
      };
      if (installationId) found.installationId = installationId;
      found.commits.set(sha.toLowerCase(), { message, ...(people ? { people } : {}) });
      repos.set(`${owner}/${repo}`, found);
    },
    pending(owner, repo, runId, environment) {
      runs.add(`${owner}/${repo}/${runId}`);
      gates.set(keyOf(owner, repo, String(runId), environment), { state: 'pending', reports: 0 });
      return `${opts.baseUrl()}/repos/${owner}/${repo}/actions/runs/${runId}/deployment_protection_rule`;
    },
    state: (owner, repo, runId, environment) =>
      gates.get(keyOf(owner, repo, String(runId), environment))?.state,
    hook,
    rateLimit: (f) => limiter.set(f),
    clearRateLimit: () => limiter.clear(),
  };
}
