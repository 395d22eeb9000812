import { randomBytes, randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { credential, fault, open, reply, type Exchange } from '../../sandbox/ci/http.js';
import type { Recorder } from '../../sandbox/ci/recorder.js';

/**
 * Emulated Azure DevOps plan events for "Invoke REST API" checks in callback mode. Every behaviour
 * names the source it follows; where none was found it says so.
 *
 * - Post Event answers `204` with no body: MicrosoftDocs/vsts-rest-api-specs
 *   `specification/distributedTask/7.1/httpExamples/events/POST_distributedtask_PostEvent_.json`
 *   (the 7.1 `task.json` lists `200 successful operation`; the recorded example is `204`).
 * - The check's AuthToken is a job access token "valid for 48 hours" (MicrosoftDocs/azure-devops-docs
 *   `docs/pipelines/process/invoke-checks.md`). Job access tokens are JWTs; ours carry `exp`.
 * - A refused or expired token: `401` with `TF400813 … not authorized` when the request says
 *   `X-TFS-FedAuthRedirect: Suppress`, otherwise `203 Non-Authoritative` with the HTML sign-in page
 *   (microsoft/azure-devops-auth-samples#52: an expired bearer token gets 203 on GET/POST, 401
 *   TF400813 on PATCH; getsentry/sentry-plugins#271: the header suppresses the sign-in redirect,
 *   "per the VSTS team"). Azure's 401 body shape is the one quoted in #52.
 * - The events resource is preview-only: a version without `-preview` is refused with "-preview
 *   flag must be supplied" (VssInvalidPreviewVersionException; the 7.1 spec marks it
 *   `x-ms-preview`).
 * - An Azure DevOps Server answers a version above its own with "The requested REST API version of
 *   X is out of range for this server. The latest REST API version this server supports is Y."
 *   (quoted from Server 2020 in maikvandergaag/msft-extensions#491 and
 *   microsoft/azure-devops-extension-sample#161). Products and their highest version: Server 2020
 *   6.0 (6.1 with Update 1), Server 2022 7.0 (learn.microsoft.com `integrate/concepts/
 *   rest-api-versioning`). The reports quote only the message; the status `400` is our reading.
 * - `OPTIONS {collection}/_apis/distributedtask` lists the area's resource locations, which is how
 *   azure-devops-node-api's `VsoClient.getVersioningData` finds a route and negotiates a version;
 *   the events location id `557624af-b29e-4c20-8ab0-0399d2204f3f` is `TaskResourceIds.PlanEvents`
 *   of Microsoft's task client libraries, its route `{scopeIdentifier}/_apis/{area}/hubs/{hubName}/
 *   plans/{planId}/{resource}`.
 * - A second TaskCompleted for a check already completed: no documented answer. The emulator
 *   answers it like the first (204) and records `duplicate`; this is an assumption.
 */

export interface AzurePendingCheck {
  /** The events URL, as the receivers build it from the check's headers. */
  url: string;
  authToken: string;
  params: {
    planId: string;
    jobId: string;
    taskInstanceId: string;
    timelineId: string;
    hubName: string;
    projectId: string;
  };
}

export interface AzurePendingOptions {
  hubName?: string;
  /** When Azure issued the check's token (epoch ms); default now. Tests make stale tokens with it. */
  issuedAt?: number;
}

export interface AzureEmulator {
  pending(options?: string | AzurePendingOptions): AzurePendingCheck;
  /** `succeeded`/`failed` once completed; `waiting` before. */
  state(planId: string): 'waiting' | 'succeeded' | 'failed' | undefined;
}

export interface AzureEmulatorOptions {
  baseUrl: () => string;
  clock?: () => number;
  /**
   * Play an Azure DevOps Server whose highest REST API version is this (`6.0` Server 2020, `7.0`
   * Server 2022). Omitted: Azure DevOps Services (7.2 at the time of writing).
   */
  maxApiVersion?: string;
}

interface Check {
  token: string;
  expiresAt: number;
  jobId: string;
  taskInstanceId: string;
  state: 'waiting' | 'succeeded' | 'failed';
}

/** "The token is valid for 48 hours" (invoke-checks.md). */
export const AZURE_CHECK_TOKEN_TTL_MS = 48 * 3600_000;
const SERVICES_MAX_VERSION = '7.2';
const PLAN_EVENTS_LOCATION = '557624af-b29e-4c20-8ab0-0399d2204f3f';
const FEED_LOCATION = '858983e4-19bd-4c5e-864c-507b59b58b12';
const BASE = '/:project/_apis/distributedtask/hubs/:hub/plans/:plan';

const SIGN_IN_PAGE =
  '<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in to your account</body></html>';

/** `7.1-preview.1` → [7, 1]; undefined when not a version. */
function numeric(version: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const above = (a: [number, number], b: [number, number]) =>
  a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** A JWT-shaped job token: `exp` readable, signature random (nothing verifies it but us). */
function jobToken(expiresAt: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return [
    b64({ typ: 'JWT', alg: 'RS256' }),
    b64({
      scp: 'app_token',
      nbf: Math.floor((expiresAt - AZURE_CHECK_TOKEN_TTL_MS) / 1000),
      exp: Math.floor(expiresAt / 1000),
    }),
    randomBytes(32).toString('base64url'),
  ].join('.');
}

/** Mount the emulated Azure DevOps plan events and timeline feed routes on `app`; returns the handle that registers pending gates. */
export function mountAzureDevops(
  app: Hono,
  rec: Recorder,
  opts: AzureEmulatorOptions,
): AzureEmulator {
  const clock = opts.clock ?? Date.now;
  const maxVersion = opts.maxApiVersion ?? SERVICES_MAX_VERSION;
  const checks = new Map<string, Check>();

  function refusedToken(x: Exchange): Response {
    if (x.c.req.header('x-tfs-fedauthredirect')?.toLowerCase() === 'suppress') {
      return reply(x, 401, 'refused', {
        $id: '1',
        innerException: null,
        message: "TF400813: The user '' is not authorized to access this resource.",
        typeName:
          'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
        typeKey: 'UnauthorizedRequestException',
        errorCode: 0,
        eventId: 3000,
      });
    }
    return reply(x, 203, 'refused', SIGN_IN_PAGE, { 'content-type': 'text/html; charset=utf-8' });
  }

  /**
   * "The API version can be specified either in the header of the HTTP request or as a URL query
   * parameter" (`Accept: application/json;api-version=1.0`; rest-api-versioning). The SDK uses
   * the header, changegate the query.
   */
  function requestedVersion(x: Exchange): string {
    const query = x.c.req.query('api-version');
    if (query !== undefined) return query;
    return /api-version=([^;,\s]+)/i.exec(x.c.req.header('accept') ?? '')?.[1] ?? '';
  }

  function versionRefusal(x: Exchange): Response | undefined {
    const version = requestedVersion(x);
    const requested = numeric(version);
    const max = numeric(maxVersion)!;
    if (requested && above(requested, max)) {
      return reply(x, 400, 'refused', {
        message: `The requested REST API version of ${requested.join('.')} is out of range for this server. The latest REST API version this server supports is ${maxVersion}.`,
        typeKey: 'VssVersionOutOfRangeException',
      });
    }
    if (!version.includes('-preview')) {
      return reply(x, 400, 'refused', {
        message: `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests.`,
        typeKey: 'VssInvalidPreviewVersionException',
      });
    }
    return undefined;
  }

  /** Common gate of both routes: fault, plan, token (value and age), api-version. */
  function guard(x: Exchange, check: Check | undefined): Response | undefined {
    const injected = fault(x);
    if (injected) return injected;
    if (!check)
      return reply(x, 404, 'refused', { message: 'TaskOrchestrationPlanNotFoundException' });
    const presented = credential(x.c.req.header('authorization')).secret;
    if (presented !== check.token || clock() >= check.expiresAt) return refusedToken(x);
    return versionRefusal(x);
  }

  // azure-devops-node-api's VsoClient: OPTIONS {collection}/_apis/{area} → resource locations.
  app.options('/_apis/distributedtask', async (c) => {
    const x = await open(c, 'azure-devops', rec);
    const location = (id: string, resourceName: string, routeTemplate: string) => ({
      id,
      area: 'distributedtask',
      resourceName,
      routeTemplate,
      resourceVersion: 1,
      minVersion: '2.0',
      maxVersion,
      releasedVersion: '0.0',
    });
    const plans = '{scopeIdentifier}/_apis/{area}/hubs/{hubName}/plans/{planId}';
    return reply(x, 200, 'read', {
      count: 2,
      value: [
        location(PLAN_EVENTS_LOCATION, 'events', `${plans}/{resource}`),
        location(
          FEED_LOCATION,
          'feed',
          `${plans}/timelines/{timelineId}/records/{recordId}/{resource}`,
        ),
      ],
    });
  });

  app.post(`${BASE}/events`, async (c) => {
    const x = await open(c, 'azure-devops', rec);
    const check = checks.get(c.req.param('plan'));
    const refused = guard(x, check);
    if (refused || !check) return refused;
    const body = (x.body ?? {}) as Record<string, unknown>;
    if (
      body.name !== 'TaskCompleted' ||
      body.jobId !== check.jobId ||
      body.taskId !== check.taskInstanceId ||
      (body.result !== 'succeeded' && body.result !== 'failed')
    ) {
      return reply(x, 400, 'refused', { message: 'invalid job event' });
    }
    if (check.state !== 'waiting') return reply(x, 204, 'duplicate');
    check.state = body.result;
    return reply(x, 204, body.result === 'succeeded' ? 'released' : 'rejected');
  });

  app.post(`${BASE}/timelines/:timeline/records/:record/feed`, async (c) => {
    const x = await open(c, 'azure-devops', rec);
    const check = checks.get(c.req.param('plan'));
    // AppendTimelineRecordFeed (task.json 7.1: 200, no body of interest).
    return guard(x, check) ?? reply(x, 200, 'comment');
  });

  return {
    pending(options = {}) {
      const o = typeof options === 'string' ? { hubName: options } : options;
      const hubName = o.hubName ?? 'checks';
      const params = {
        planId: randomUUID(),
        jobId: randomUUID(),
        taskInstanceId: randomUUID(),
        timelineId: randomUUID(),
        hubName,
        projectId: randomUUID(),
      };
      const expiresAt = (o.issuedAt ?? clock()) + AZURE_CHECK_TOKEN_TTL_MS;
      const authToken = jobToken(expiresAt);
      checks.set(params.planId, {
        token: authToken,
        expiresAt,
        jobId: params.jobId,
        taskInstanceId: params.taskInstanceId,
        state: 'waiting',
      });
      // PlanUrl ends with "/"; the receivers append ProjectId to it.
      const url = `${opts.baseUrl()}/${params.projectId}/_apis/distributedtask/hubs/${hubName}/plans/${params.planId}/events`;
      return { url, authToken, params };
    },
    state: (planId) => checks.get(planId)?.state,
  };
}
