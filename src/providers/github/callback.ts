import type { Callback } from '../../events/common.js';
import { CallbackRefusedError } from '../../ci/errors.js';
import {
  createInstallationTokens,
  GITHUB_HEADERS,
  type GithubAppOptions,
  type InstallationTokens,
} from './app.js';
import { failure, send, type HttpDeps, type HttpReply } from '../../ci/http.js';
import type { CallbackClient, CiLog, DecideResult } from '../../ci/port.js';

/**
 * GitHub custom deployment protection rules: the App reviews its own gate with
 * `POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`
 * (operationId actions/review-custom-gates-for-run; 204 on success, 422 "No pending custom
 * deployment requests in workflow run …" when nothing is pending for that environment).
 * https://docs.github.com/en/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run
 *
 * @module
 */

const PROVIDER = 'github';
/** GitHub caps review comments at 1024 characters. */
const MAX_COMMENT = 1024;
const CALLBACK_PATH = /\/repos\/[^/]+\/[^/]+\/actions\/runs\/\d+\/deployment_protection_rule$/;

const HINTS = {
  401: 'installation token refused even after renewal: check the App installation',
  403: 'the GitHub App lacks the repository permission "Deployments: Read and write"',
  404: 'run not found, or not an App installation token (Apps can only review their own rules)',
  422: 'GitHub refused the review body',
};

function param(callback: Callback, name: string): string {
  const value = callback.params[name];
  if (!value) throw new CallbackRefusedError(`github callback lacks params.${name}`);
  return value;
}

/** The installation token must never leave GitHub: the callback must be on the API origin. */
function checkTarget(callback: Callback, apiUrl: string): void {
  const target = new URL(callback.url);
  if (target.origin !== new URL(apiUrl).origin) {
    throw new CallbackRefusedError(
      `github callback ${target.origin} is not on ci.github.apiUrl ${new URL(apiUrl).origin}`,
    );
  }
  if (!CALLBACK_PATH.test(target.pathname)) {
    throw new CallbackRefusedError('github callback is not a deployment_protection_rule URL');
  }
}

const isNoPendingGate = (reply: HttpReply) =>
  reply.status === 422 && /no pending/i.test(reply.text);

/**
 * @example createGithubClient({ appId, privateKey, apiUrl }, { fetchImpl: fetch, timeoutMs: 10_000, log })
 */
export function createGithubClient(
  opts: GithubAppOptions,
  deps: HttpDeps & { log: CiLog; tokens?: InstallationTokens },
): CallbackClient {
  const tokens = deps.tokens ?? createInstallationTokens(opts, deps);

  async function review(callback: Callback, body: Record<string, string>): Promise<HttpReply> {
    checkTarget(callback, opts.apiUrl);
    const installationId = param(callback, 'installationId');
    const post = async () =>
      send(deps, PROVIDER, callback.url, {
        method: 'POST',
        headers: {
          ...GITHUB_HEADERS,
          'content-type': 'application/json',
          authorization: `Bearer ${await tokens.get(installationId)}`,
        },
        body: JSON.stringify(body),
      });
    const reply = await post();
    if (reply.status !== 401) return reply;
    // A revoked or rotated installation token: renew once, then give up.
    tokens.invalidate(installationId);
    return post();
  }

  return {
    async decide(callback, decision): Promise<DecideResult> {
      const reply = await review(callback, {
        environment_name: param(callback, 'environment'),
        state: decision.outcome === 'approve' ? 'approved' : 'rejected',
        comment: decision.comment.slice(0, MAX_COMMENT),
      });
      if (reply.status === 204 || reply.status === 200) {
        return { status: 'done', httpStatus: reply.status };
      }
      if (isNoPendingGate(reply)) return { status: 'already-decided', httpStatus: reply.status };
      throw failure(PROVIDER, reply, HINTS);
    },

    async comment(callback, text) {
      // No `state`: a status report shown on the run (up to 10 per deployment).
      const reply = await review(callback, {
        environment_name: param(callback, 'environment'),
        comment: text.slice(0, MAX_COMMENT),
      });
      if (reply.status === 204 || reply.status === 200) return;
      if (isNoPendingGate(reply)) {
        deps.log.debug({ provider: PROVIDER }, 'no pending gate to comment on');
        return;
      }
      throw failure(PROVIDER, reply, HINTS);
    },
  };
}
