import { UpstreamError } from '../../errors.js';
import type { Callback } from '../../events/common.js';
import type { Sealer } from '../../security/seal.js';
import { CallbackRefusedError } from '../../ci/errors.js';
import { detail, failure, send, type HttpDeps, type HttpReply } from '../../ci/http.js';
import type { CallbackClient, CiLog, DecideResult } from '../../ci/port.js';

/**
 * Azure DevOps "Invoke REST API" checks in callback mode: the check waits until we post
 * `TaskCompleted` to the plan's events endpoint, authenticated with the run-scoped AuthToken
 * the check sent us (sealed in the callback; opened here, never logged).
 *
 * What the wire does, and where that is written down:
 * - Post Event answers `204` (vsts-rest-api-specs `distributedTask/7.1/httpExamples/events/
 *   POST_distributedtask_PostEvent_.json`; the spec's operation lists `200`): both count as done,
 *   no other status does.
 * - The AuthToken "is valid for 48 hours" (azure-devops-docs `pipelines/process/invoke-checks.md`)
 *   and Azure "doesn't retry asynchronous checks": past its expiry the check can never be completed,
 *   so that is a final, named failure, checked before any request is made.
 * - Without `X-TFS-FedAuthRedirect: Suppress` a refused token gets `203` and a sign-in page instead
 *   of `401` (microsoft/azure-devops-auth-samples#52); we send the header and treat a 203 as refused.
 * - The events resource is preview-only. Azure DevOps Services take `7.1-preview.1`; a Server takes
 *   nothing above its own version (Server 2020: 6.0, Server 2022: 7.0) and says which version it
 *   supports, so a Server host defaults to `6.0-preview.1`, `ci.azureDevops.apiVersion` overrides,
 *   and an "out of range" answer is retried once with the version the server names.
 *
 * @module
 */

const PROVIDER = 'azure-devops';
const EVENTS_PATH = /\/_apis\/distributedtask\/hubs\/[^/]+\/plans\/[^/]+\/events$/;
/** "The token is valid for 48 hours" (invoke-checks.md). */
export const AZURE_TOKEN_TTL_MS = 48 * 3600_000;
/** Azure DevOps Services: the events API's current preview. */
export const SERVICES_API_VERSION = '7.1-preview.1';
/** Azure DevOps Server 2020 and later (Server 2020 supports up to 6.0). */
export const SERVER_API_VERSION = '6.0-preview.1';
const OUT_OF_RANGE =
  /latest REST API version (?:this server supports|supported by this server) is "?(\d+\.\d+)/i;

const HINTS = {
  400: 'Azure DevOps refused the event (taskId/jobId do not match the waiting check?)',
  401: 'AuthToken refused: it is scoped to the run and dies with it (run cancelled, or the check timed out?)',
  403: 'AuthToken lacks access to this plan',
  404: 'plan not found: the run is gone or the PlanUrl/ProjectId/hub in the callback is wrong',
};

/** The check's token expired: the check can never be completed. Never retryable. */
export class AzureTokenExpiredError extends UpstreamError {
  readonly expiredAt: string;
  constructor(expiredAt: string, upstreamStatus?: number) {
    super(
      `[changegate/ci/${PROVIDER}] AuthToken expired at ${expiredAt}: Azure's check token is valid 48 h, so this check can no longer be completed and nothing was released; Azure skips the stage when the check's own timeout passes (re-run the stage for a new check, and keep gate timeouts for Azure under 48 h)`,
      { retryable: false, ...(upstreamStatus ? { upstreamStatus } : {}) },
    );
    this.expiredAt = expiredAt;
  }
}

/** Services (`dev.azure.com`, `*.visualstudio.com`) or a Server install. */
export function isAzureDevopsServices(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'dev.azure.com' || h.endsWith('.visualstudio.com');
}

/** `7.1` → `7.1-preview.1`; a version with a preview flag is kept. */
export function asPreview(version: string): string {
  return version.includes('-preview') ? version : `${version}-preview.1`;
}

/** The api-version to send to this URL's host: configured, else by Services vs Server. */
export function apiVersionFor(url: string, configured?: string): string {
  if (configured) return asPreview(configured);
  return isAzureDevopsServices(new URL(url).host) ? SERVICES_API_VERSION : SERVER_API_VERSION;
}

/** `url` with `api-version` set (any version already on it is replaced). */
export function withApiVersion(raw: string, version: string): string {
  const url = new URL(raw);
  url.searchParams.set('api-version', version);
  return url.href;
}

/** `…/plans/{plan}/events` → `…/plans/{plan}/timelines/{timeline}/records/{job}/feed`. */
export function feedUrl(eventsUrl: string, timelineId: string, jobId: string): string {
  const url = new URL(eventsUrl);
  url.pathname = url.pathname.replace(
    /\/events$/,
    `/timelines/${encodeURIComponent(timelineId)}/records/${encodeURIComponent(jobId)}/feed`,
  );
  return url.href;
}

/** The `exp` of a JWT-shaped token (job access tokens are JWTs), without verifying it. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (
      JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }
    ).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function param(callback: Callback, name: string): string {
  const value = callback.params[name];
  if (!value) throw new CallbackRefusedError(`azure-devops callback lacks params.${name}`);
  return value;
}

export interface AzureDevopsClientOptions {
  sealer: Sealer;
  /** `ci.azureDevops.apiVersion`: the events api-version for every host. */
  apiVersion?: string;
  clock?: () => number;
}

/** @example createAzureDevopsClient({ sealer }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createAzureDevopsClient(
  opts: AzureDevopsClientOptions,
  deps: HttpDeps & { log?: CiLog },
): CallbackClient {
  const clock = opts.clock ?? Date.now;
  /** Versions learnt from "out of range" answers, by host. */
  const learnt = new Map<string, string>();

  async function open(callback: Callback): Promise<{ authorization: string; expiresAt?: number }> {
    if (!new URL(callback.url).pathname.match(EVENTS_PATH)) {
      throw new CallbackRefusedError('azure-devops callback is not a plans/:plan/events URL');
    }
    if (!callback.sealed)
      throw new CallbackRefusedError('azure-devops callback has no sealed AuthToken');
    let authToken: string | undefined;
    try {
      authToken = (await opts.sealer.open(callback.sealed)).authToken;
    } catch {
      // The cause is dropped on purpose: nothing about the sealed value goes into errors.
      throw new CallbackRefusedError(
        'azure-devops sealed AuthToken cannot be opened (key rotated?)',
      );
    }
    if (!authToken) throw new CallbackRefusedError('azure-devops sealed value has no authToken');
    const stated = Date.parse(callback.params.tokenExpiresAt ?? '');
    const expiresAt = Number.isFinite(stated) ? stated : jwtExpiry(authToken);
    return {
      authorization: `Basic ${Buffer.from(`:${authToken}`).toString('base64')}`,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  async function post(callback: Callback, target: string, body: unknown): Promise<HttpReply> {
    const { authorization, expiresAt } = await open(callback);
    if (expiresAt !== undefined && clock() >= expiresAt) {
      throw new AzureTokenExpiredError(new Date(expiresAt).toISOString());
    }
    const host = new URL(target).host.toLowerCase();
    const attempt = (version: string) =>
      send(deps, PROVIDER, withApiVersion(target, version), {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          accept: 'application/json',
          // Refused tokens get 401, not a 203 sign-in page.
          'x-tfs-fedauthredirect': 'Suppress',
        },
        body: JSON.stringify(body),
      });
    const chosen = learnt.get(host) ?? apiVersionFor(target, opts.apiVersion);
    let reply = await attempt(chosen);
    const supported = reply.status === 400 ? OUT_OF_RANGE.exec(reply.text)?.[1] : undefined;
    if (supported && asPreview(supported) !== chosen) {
      const version = asPreview(supported);
      deps.log?.warn(
        { provider: PROVIDER, host, tried: chosen, using: version },
        `Azure DevOps at ${host} supports api-version ${supported} at most; set ci.azureDevops.apiVersion: "${version}"`,
      );
      learnt.set(host, version);
      reply = await attempt(version);
    }
    if ((reply.status === 401 || reply.status === 203) && expiresAt !== undefined) {
      if (clock() >= expiresAt) {
        throw new AzureTokenExpiredError(new Date(expiresAt).toISOString(), reply.status);
      }
    }
    return reply;
  }

  function refused(reply: HttpReply): UpstreamError {
    if (reply.status === 203) {
      return new UpstreamError(
        `[changegate/ci/${PROVIDER}] HTTP 203: Azure answered with its sign-in page, so the AuthToken was not accepted (revoked, or the run is gone) and nothing was released${reply.text ? ` (${detail(reply.text)})` : ''}`,
        { retryable: false, upstreamStatus: 203 },
      );
    }
    return failure(PROVIDER, reply, HINTS);
  }

  const ok = (status: number) => status === 200 || status === 204;

  return {
    async decide(callback, decision): Promise<DecideResult> {
      const reply = await post(callback, callback.url, {
        name: 'TaskCompleted',
        taskId: param(callback, 'taskInstanceId'),
        jobId: param(callback, 'jobId'),
        result: decision.outcome === 'approve' ? 'succeeded' : 'failed',
      });
      // No distinct "already completed" answer is documented, so a repeat's 204 counts as done.
      if (ok(reply.status)) return { status: 'done', httpStatus: reply.status };
      throw refused(reply);
    },

    async comment(callback, text) {
      const url = feedUrl(callback.url, param(callback, 'timelineId'), param(callback, 'jobId'));
      const reply = await post(callback, url, { value: [text], count: 1 });
      if (!ok(reply.status)) throw refused(reply);
    },
  };
}
