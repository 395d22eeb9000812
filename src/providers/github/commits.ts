import { z } from 'zod';
import type { CommitDetails, CommitLookup } from '../../ci/commits.js';
import type { CiLog } from '../../ci/port.js';
import type { Person } from '../../events/cicd.js';
import { GITHUB_HEADERS, type InstallationTokens } from './app.js';
import { failure, joinUrl, send, type HttpDeps } from '../../ci/http.js';

/**
 * Commits from GitHub, read with an installation token: `GET /repos/{owner}/{repo}/commits/{ref}`
 * (operationId repos/get-commit; needs the App permission "Contents: Read"). The message is
 * `commit.message`; the author and committer are the git identities `commit.author` and
 * `commit.committer` (`name`, `email`) with the GitHub accounts GitHub matched to them, top-level
 * `author.login` and `committer.login` (null, or an empty object, when no account matches).
 * https://docs.github.com/en/rest/commits/commits#get-a-commit
 * Without an installation id in the event (deployment_status carries none into our event data),
 * the repository's installation is found with the App JWT:
 * `GET /repos/{owner}/{repo}/installation` (apps/get-repo-installation).
 * https://docs.github.com/en/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app
 *
 * A commit never changes, so each sha is read once per process (bounded cache).
 *
 * @module
 */

const PROVIDER = 'github';
/** Enough for every deployment in flight; the oldest entry goes first. */
const MAX_CACHED = 2000;
const PROJECT = /^[^/\s]+\/[^/\s]+$/;
const SHA = /^[0-9a-f]{7,64}$/i;

/**
 * The fields read of GitHub's `commit` schema (components/schemas/commit, `@octokit/openapi`;
 * the test checks every path against it). All optional: a field GitHub leaves out is unknown.
 */
const GitUser = z.object({ name: z.string().nullish(), email: z.string().nullish() }).nullish();
const Account = z.object({ login: z.string().optional() }).nullish();
export const CommitResponse = z.object({
  commit: z
    .object({ message: z.string().nullish(), author: GitUser, committer: GitUser })
    .nullish(),
  author: Account,
  committer: Account,
});

/** A git identity and its GitHub account as one person; undefined when nothing names them. */
function personOf(git: z.output<typeof GitUser>, account: z.output<typeof Account>) {
  const person: Person = {
    ...(account?.login ? { login: account.login } : {}),
    ...(git?.name ? { name: git.name } : {}),
    ...(git?.email ? { email: git.email } : {}),
  };
  return Object.keys(person).length > 0 ? person : undefined;
}

/** The parts of a get-commit answer changegate uses. */
export function commitDetails(body: z.output<typeof CommitResponse>): CommitDetails {
  const author = personOf(body.commit?.author, body.author);
  const committer = personOf(body.commit?.committer, body.committer);
  return {
    ...(typeof body.commit?.message === 'string' ? { message: body.commit.message } : {}),
    ...(author ? { author } : {}),
    ...(committer ? { committer } : {}),
  };
}

const HINTS = {
  401: 'installation token refused even after renewal: check the App installation',
  403: 'the GitHub App lacks the repository permission "Contents: Read" (needed to read commit trailers and authors)',
};

export interface GithubCommitsDeps extends HttpDeps {
  log?: CiLog;
  tokens: InstallationTokens;
  /** An App JWT for `GET /repos/{owner}/{repo}/installation`. */
  appJwt: () => Promise<string>;
}

/** @example createGithubCommits({ apiUrl }, { fetchImpl, timeoutMs, tokens, appJwt }) */
export function createGithubCommits(
  opts: { apiUrl: string },
  deps: GithubCommitsDeps,
): CommitLookup {
  const commits = new Map<string, Promise<CommitDetails | undefined>>();
  const installations = new Map<string, Promise<string>>();

  function remember<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>) {
    const hit = map.get(key);
    if (hit) return hit;
    const pending = load();
    map.set(key, pending);
    if (map.size > MAX_CACHED) map.delete(map.keys().next().value!);
    // A failure is not an answer: the next event asks again.
    pending.catch(() => {
      if (map.get(key) === pending) map.delete(key);
    });
    return pending;
  }

  const repoPath = (project: string) =>
    project
      .split('/')
      .map((part) => encodeURIComponent(part))
      .join('/');

  async function installationOf(project: string): Promise<string> {
    const reply = await send(
      deps,
      PROVIDER,
      joinUrl(opts.apiUrl, `repos/${repoPath(project)}/installation`),
      {
        method: 'GET',
        headers: { ...GITHUB_HEADERS, authorization: `Bearer ${await deps.appJwt()}` },
      },
    );
    if (reply.status !== 200) {
      throw failure(PROVIDER, reply, {
        401: 'App JWT refused: check ci.github.appId, ci.github.privateKey and this host clock',
        404: `the GitHub App is not installed on ${project}`,
      });
    }
    const id = (JSON.parse(reply.text) as { id?: unknown }).id;
    if (typeof id !== 'number' && typeof id !== 'string') {
      throw failure(PROVIDER, { ...reply, text: 'no installation id in response' });
    }
    return String(id);
  }

  async function read(project: string, sha: string, installationId: string) {
    const url = joinUrl(opts.apiUrl, `repos/${repoPath(project)}/commits/${sha}`);
    const get = async () =>
      send(deps, PROVIDER, url, {
        method: 'GET',
        headers: {
          ...GITHUB_HEADERS,
          authorization: `Bearer ${await deps.tokens.get(installationId)}`,
        },
      });
    let reply = await get();
    if (reply.status === 401) {
      deps.tokens.invalidate(installationId);
      reply = await get();
    }
    // 404: no such commit; 422: no commit for that ref; 409: empty repository. Nothing to read.
    if (reply.status === 404 || reply.status === 422 || reply.status === 409) return undefined;
    if (reply.status !== 200) {
      const err = failure(PROVIDER, reply, HINTS);
      // An App installed before it asked for "Contents: Read" answers 403 until an owner accepts
      // the new permission. That must not stop deployments: go on without the trailer, say why.
      if (reply.status === 403 && !err.retryable) {
        deps.log?.warn(
          { provider: PROVIDER, project, sha },
          `${err.message}; the commit's trailer and authors are not read`,
        );
        return undefined;
      }
      throw err;
    }
    const body = CommitResponse.safeParse(parseJson(reply.text));
    if (!body.success) {
      throw failure(PROVIDER, { ...reply, text: 'the commit answer is not a GitHub commit' });
    }
    return commitDetails(body.data);
  }

  return {
    async commitOf({ provider, project, sha, installationId }) {
      if (provider !== PROVIDER || !PROJECT.test(project) || !SHA.test(sha)) return undefined;
      return remember(commits, `${project}@${sha.toLowerCase()}`, async () =>
        read(
          project,
          sha,
          installationId ?? (await remember(installations, project, () => installationOf(project))),
        ),
      );
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
