/**
 * Response bodies of the emulated GitHub, complete with every property GitHub's REST description
 * marks required (components/schemas of github/rest-api-description, as published in
 * `@octokit/openapi`): `simple-user`, `installation`, `commit`, `hook-delivery-item`,
 * `hook-delivery`. The contract test validates every answer against those schemas.
 *
 * @module
 */

const WEB = 'https://github.com';

/** A stable numeric id for a name, so the same account always gets the same id. */
export function idOf(name: string, base = 1_000_000): number {
  return base + [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 999_983, 7);
}

/** `#/components/schemas/simple-user`. */
export function simpleUser(api: string, login: string, type: 'User' | 'Organization' | 'Bot') {
  const url = `${api}/users/${login}`;
  return {
    login,
    id: idOf(login),
    node_id: Buffer.from(`04:${type}${idOf(login)}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${idOf(login)}?v=4`,
    gravatar_id: '',
    url,
    html_url: `${WEB}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type,
    site_admin: false,
  };
}

/** `#/components/schemas/installation`: the App installed on `owner`'s selected repositories. */
export function installation(
  api: string,
  { id, owner, appId }: { id: string; owner: string; appId: string },
) {
  const at = '2026-01-05T09:00:00Z';
  return {
    id: Number(id),
    account: simpleUser(api, owner, 'Organization'),
    access_tokens_url: `${api}/app/installations/${id}/access_tokens`,
    repositories_url: `${api}/installation/repositories`,
    html_url: `${WEB}/organizations/${owner}/settings/installations/${id}`,
    app_id: Number(appId),
    app_slug: 'changegate',
    target_id: idOf(owner),
    target_type: 'Organization',
    permissions: { actions: 'read', contents: 'read', deployments: 'write', metadata: 'read' },
    events: ['deployment_protection_rule', 'deployment_status', 'workflow_run'],
    created_at: at,
    updated_at: at,
    single_file_name: null,
    repository_selection: 'selected',
    suspended_by: null,
    suspended_at: null,
  };
}

/**
 * A commit's git identity (`name`, `email`: `commit.author` / `commit.committer`) and the GitHub
 * account GitHub matched to its e-mail (`login`: top-level `author` / `committer`; null when no
 * account has that e-mail, as GitHub answers for an unknown author).
 */
export interface CommitPerson {
  name: string;
  email: string;
  login: string | null;
}
export interface CommitPeople {
  author?: CommitPerson;
  committer?: CommitPerson;
}

const MONA: CommitPerson = { name: 'Mona Lisa', email: 'mona@example.com', login: 'mona' };

/**
 * `#/components/schemas/commit`, as `GET /repos/{owner}/{repo}/commits/{ref}` answers it
 * (https://docs.github.com/en/rest/commits/commits#get-a-commit): `commit.author` and
 * `commit.committer` are git users (`name`, `email`, `date`); top-level `author` and
 * `committer` are the matched accounts (`simple-user`) or null. Default: Mona Lisa authored it
 * and committed it through the web (committer account `web-flow`).
 */
export function commit(
  api: string,
  owner: string,
  repo: string,
  sha: string,
  message: string,
  people: CommitPeople = {},
) {
  const repoApi = `${api}/repos/${owner}/${repo}`;
  const date = '2026-03-04T08:54:58Z';
  const author = people.author ?? MONA;
  const committer = people.committer ?? { ...MONA, login: 'web-flow' };
  const account = (login: string | null) => (login ? simpleUser(api, login, 'User') : null);
  return {
    sha,
    node_id: Buffer.from(`04:Commit${sha}`).toString('base64'),
    url: `${repoApi}/commits/${sha}`,
    html_url: `${WEB}/${owner}/${repo}/commit/${sha}`,
    comments_url: `${repoApi}/commits/${sha}/comments`,
    commit: {
      url: `${repoApi}/git/commits/${sha}`,
      author: { name: author.name, email: author.email, date },
      committer: { name: committer.name, email: committer.email, date },
      message,
      comment_count: 0,
      tree: { sha: '0'.repeat(40), url: `${repoApi}/git/trees/${'0'.repeat(40)}` },
      verification: {
        verified: false,
        reason: 'unsigned',
        payload: null,
        signature: null,
        verified_at: null,
      },
    },
    author: account(author.login),
    committer: account(committer.login),
    parents: [],
    stats: { additions: 0, deletions: 0, total: 0 },
    files: [],
  };
}

/** GitHub's error body (`#/components/schemas/basic-error`). */
export function basicError(message: string, status: number, doc = 'https://docs.github.com/rest') {
  return { message, documentation_url: doc, status: String(status) };
}
