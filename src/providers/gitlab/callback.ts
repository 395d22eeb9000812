import type { Callback } from '../../events/common.js';
import { UpstreamError } from '../../errors.js';
import { CallbackRefusedError } from '../../ci/errors.js';
import { failure, send, type HttpDeps, type HttpReply } from '../../ci/http.js';
import { SILENT_LOG, type CallbackClient, type CiLog, type DecideResult } from '../../ci/port.js';

/**
 * GitLab deployment approvals (Premium/Ultimate) for a deploy job to a protected environment.
 * What GitLab does (gitlab-org/gitlab):
 * - A job waiting for approval is `manual` and its deployment `blocked`
 *   (`Deployment#sync_status_with`); approving only records the approval: with approval rules
 *   "the deployment … stays as manual job. Executors can later run the manual job"
 *   (`ee/app/services/deployments/approval_service.rb`; `doc/ci/environments/deployment_approvals.md`:
 *   "After a deployment job is approved, you must run the job manually").
 * - `POST /projects/:id/deployments/:deployment_id/approval` answers 201 with the approval; every
 *   service error is a 400 with a message, among them "This deployment is not waiting for
 *   approvals." (`ee/lib/ee/api/deployments.rb`).
 * - `POST /projects/:id/jobs/:job_id/play` runs a manual job for a user allowed to deploy; 400
 *   "Unplayable Job" when the job is not manual or still waits for approvals (`lib/api/ci/jobs.rb`,
 *   `Ci::Build#playable?`).
 *
 * So a release is: find the job's blocked deployment, approve it, then play the job. A rejection
 * rejects the deployment (GitLab then drops the job). Each step tolerates the answer that says it
 * was already done, so a redelivered decision is idempotent: the job is played only while it is
 * `manual`, never retried after it ran or failed.
 *
 * Callbacks (from the receiver): `…/api/v4/projects/:id/jobs/:job_id/play` with
 * `params: { projectId, jobId, environment }`; or, for gates registered by older releases,
 * `…/projects/:id/deployments/:deployment_id/approval`.
 *
 * @module
 */

const PROVIDER = 'gitlab';
const PLAY = /^(.*)\/api\/v4\/projects\/([^/]+)\/jobs\/(\d+)\/play$/;
const APPROVAL = /^(.*)\/api\/v4\/projects\/([^/]+)\/deployments\/(\d+)\/approval$/;
const NOT_WAITING = /not waiting for approvals/i;
/** GitLab holds nothing for an approval here: not protected, or no approvals configured. */
const NOT_GATED = /not protected|approvals is not configured/i;
const UNPLAYABLE = /unplayable job/i;
/** Blocked deployments read per environment: the newest page is where a waiting job is. */
const PER_PAGE = 100;

export interface GitlabClientOptions {
  /** Tokens by instance host (`URL.host`, lower case). */
  tokens: Record<string, { token: string }>;
}

interface Target {
  /** `<instance>/api/v4/projects/<id>` */
  api: string;
  token: string;
  environment: string | undefined;
  jobId: number | undefined;
  deploymentId: number | undefined;
}

interface DeploymentEntity {
  id: number;
  status: string;
  deployable?: { id: number; status: string } | null;
}

function parseTarget(callback: Callback, opts: GitlabClientOptions): Target {
  const url = new URL(callback.url);
  const path = `${url.origin}${url.pathname}`;
  const play = PLAY.exec(path);
  const approval = play ? null : APPROVAL.exec(path);
  const match = play ?? approval;
  if (!match) {
    throw new CallbackRefusedError(
      'gitlab callback is neither a jobs/:job_id/play nor a deployments/:id/approval URL',
    );
  }
  // The token is chosen by the callback's host, so it is only ever sent to its own instance.
  const entry = opts.tokens[url.host.toLowerCase()];
  if (!entry) throw new CallbackRefusedError(`no ci.gitlab token for host ${url.host}`);
  return {
    api: `${match[1]}/api/v4/projects/${match[2]}`,
    token: entry.token,
    environment: callback.params.environment,
    jobId: play ? Number(match[3]) : undefined,
    deploymentId: approval ? Number(match[3]) : undefined,
  };
}

function json<T>(reply: HttpReply): T {
  try {
    return JSON.parse(reply.text) as T;
  } catch {
    throw new UpstreamError(`[changegate/ci/${PROVIDER}] HTTP ${reply.status}: body is not JSON`, {
      retryable: true,
      upstreamStatus: reply.status,
    });
  }
}

const HINTS = {
  401: 'token invalid or expired: check ci.gitlab.<host>.token',
  403: 'the token user may not approve or deploy to this protected environment (approval rules, "Allowed to deploy")',
  404: 'project, deployment or job not found, or the token cannot see it',
};

/** @example createGitlabClient({ tokens: { 'gitlab.com': { token } } }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createGitlabClient(
  opts: GitlabClientOptions,
  deps: HttpDeps & { log?: CiLog },
): CallbackClient {
  const log = deps.log ?? SILENT_LOG;

  async function call(t: Target, method: 'GET' | 'POST', path: string, body?: unknown) {
    return send(deps, PROVIDER, `${t.api}${path}`, {
      method,
      headers: {
        'private-token': t.token,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function read<T>(t: Target, path: string): Promise<T> {
    const reply = await call(t, 'GET', path);
    if (reply.status !== 200) throw failure(PROVIDER, reply, HINTS);
    return json<T>(reply);
  }

  /**
   * The deployment of the gate: by id (approval callbacks), or the job's deployment among the
   * environment's blocked ones (`GET /projects/:id/deployments?status=blocked`). Undefined when
   * the job's deployment is no longer blocked: it ran, failed or was rejected.
   */
  async function deploymentOf(t: Target): Promise<DeploymentEntity | undefined> {
    if (t.deploymentId !== undefined) {
      const d = await read<DeploymentEntity>(t, `/deployments/${t.deploymentId}`);
      t.jobId ??= d.deployable?.id;
      return d.status === 'blocked' ? d : undefined;
    }
    const query = new URLSearchParams({
      status: 'blocked',
      order_by: 'id',
      sort: 'desc',
      per_page: String(PER_PAGE),
      ...(t.environment ? { environment: t.environment } : {}),
    });
    const list = await read<DeploymentEntity[]>(t, `/deployments?${query}`);
    return list.find((d) => d.deployable?.id === t.jobId);
  }

  /** 'done' | 'not-waiting' | 'not-gated' */
  async function approval(t: Target, d: DeploymentEntity, status: string, comment: string) {
    const reply = await call(t, 'POST', `/deployments/${d.id}/approval`, { status, comment });
    if (reply.status === 201 || reply.status === 200) return 'done' as const;
    if (reply.status === 400 && NOT_WAITING.test(reply.text)) return 'not-waiting' as const;
    if (reply.status === 400 && NOT_GATED.test(reply.text)) return 'not-gated' as const;
    throw failure(PROVIDER, reply, {
      ...HINTS,
      400: 'GitLab refused the approval (self-approval, or the token user is in no approval rule)',
    });
  }

  async function jobStatus(t: Target): Promise<string> {
    return (await read<{ status: string }>(t, `/jobs/${t.jobId}`)).status;
  }

  return {
    async decide(callback, decision): Promise<DecideResult> {
      const t = parseTarget(callback, opts);
      const d = await deploymentOf(t);

      if (decision.outcome === 'reject') {
        if (!d) return { status: 'already-decided', httpStatus: 200 };
        const r = await approval(t, d, 'rejected', decision.comment);
        return r === 'done'
          ? { status: 'done', httpStatus: 201 }
          : { status: 'already-decided', httpStatus: 400 };
      }

      let approvedNow = false;
      if (d) {
        const r = await approval(t, d, 'approved', decision.comment);
        if (r === 'not-gated') {
          // Nothing in GitLab waits for an approval; a manual job GitLab does not hold is left to
          // the people who run it by hand.
          log.warn(
            { provider: PROVIDER, environment: t.environment, jobId: t.jobId },
            'environment has no deployment approvals in GitLab: job not played',
          );
          return { status: 'already-decided', httpStatus: 400 };
        }
        approvedNow = r === 'done';
      }
      if (t.jobId === undefined) return { status: 'already-decided', httpStatus: 200 };

      // Play only a job that is still manual: never re-run one that ran, failed or was rejected.
      if ((await jobStatus(t)) !== 'manual') {
        return approvedNow
          ? { status: 'done', httpStatus: 201 }
          : { status: 'already-decided', httpStatus: 200 };
      }
      const play = await call(t, 'POST', `/jobs/${t.jobId}/play`);
      if (play.status === 200) return { status: 'done', httpStatus: 200 };
      if (play.status === 400 && UNPLAYABLE.test(play.text)) {
        if ((await jobStatus(t)) === 'manual') {
          // Approved by changegate, still held by GitLab: other approval rules are pending.
          throw new UpstreamError(
            `[changegate/ci/${PROVIDER}] deployment approved, but GitLab still waits for other approvals before job ${t.jobId} can run`,
            { retryable: false, upstreamStatus: 400 },
          );
        }
        return { status: approvedNow ? 'done' : 'already-decided', httpStatus: 400 };
      }
      throw failure(PROVIDER, play, {
        ...HINTS,
        403: 'the token user is not allowed to deploy to this protected environment ("Allowed to deploy")',
      });
    },
  };
}
