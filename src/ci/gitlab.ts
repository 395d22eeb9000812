import type { Callback } from '../events/common.js';
import { CallbackRefusedError } from './errors.js';
import { failure, send, type HttpDeps } from './http.js';
import type { CallbackClient, DecideResult } from './port.js';

/**
 * GitLab deployment approvals (Premium/Ultimate):
 * `POST /api/v4/projects/:id/deployments/:deployment_id/approval` with `{status, comment}`.
 * Source (gitlabhq ee/lib/ee/api/deployments.rb, Deployments::ApprovalService): success presents
 * the approval (Grape POST: 201); every service error is `render_api_error!(message, 400)`.
 * Once the deployment is no longer blocked the message is "This deployment is not waiting for
 * approvals." — that is our already-decided. A repeat while it still waits (more approvals
 * required) updates the same approval and answers 201 again, which is idempotent too.
 * https://docs.gitlab.com/ee/api/deployments.html#approve-or-reject-a-blocked-deployment
 *
 * @module
 */

const PROVIDER = 'gitlab';
const APPROVAL_PATH = /\/api\/v4\/projects\/[^/]+\/deployments\/\d+\/approval$/;
const NOT_WAITING = /not waiting for approvals/i;

export interface GitlabClientOptions {
  /** Tokens by instance host (`URL.host`, lower case). */
  tokens: Record<string, { token: string }>;
}

/** @example createGitlabClient({ tokens: { 'gitlab.com': { token } } }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createGitlabClient(opts: GitlabClientOptions, deps: HttpDeps): CallbackClient {
  function tokenFor(callback: Callback): string {
    const url = new URL(callback.url);
    if (!APPROVAL_PATH.test(url.pathname)) {
      throw new CallbackRefusedError('gitlab callback is not a deployments/:id/approval URL');
    }
    // The token is chosen by the callback's host, so it is only ever sent to its own instance.
    const entry = opts.tokens[url.host.toLowerCase()];
    if (!entry) throw new CallbackRefusedError(`no ci.gitlab token for host ${url.host}`);
    return entry.token;
  }

  return {
    async decide(callback, decision): Promise<DecideResult> {
      const reply = await send(deps, PROVIDER, callback.url, {
        method: 'POST',
        headers: {
          'private-token': tokenFor(callback),
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({
          status: decision.outcome === 'approve' ? 'approved' : 'rejected',
          comment: decision.comment,
        }),
      });
      if (reply.status >= 200 && reply.status < 300) {
        return { status: 'done', httpStatus: reply.status };
      }
      if (reply.status === 400 && NOT_WAITING.test(reply.text)) {
        return { status: 'already-decided', httpStatus: reply.status };
      }
      throw failure(PROVIDER, reply, {
        400: 'GitLab refused the approval (self-approval, no approval rules, or not protected)',
        401: 'token invalid or expired: check ci.gitlab.<host>.token',
        403: 'the token user may not approve deployments to this protected environment',
        404: 'project or deployment not found, or the token cannot see it',
      });
    },
  };
}
