import type { Callback } from '../events/common.js';
import type { Sealer } from '../security/seal.js';
import { CallbackRefusedError } from './errors.js';
import { failure, send, type HttpDeps } from './http.js';
import type { CallbackClient, DecideResult } from './port.js';

/**
 * Azure DevOps "Invoke REST API" checks in callback mode: the check waits until we post
 * `TaskCompleted` to the plan's events endpoint, authenticated with the run-scoped AuthToken
 * the check sent us (sealed in the callback; opened here, never logged).
 * https://learn.microsoft.com/en-us/rest/api/azure/devops/distributedtask/events/post-event
 * (Basic auth: "any value for the user name and the token as the password"; 200 OK; the events
 * API is a preview API: api-version `7.1-preview.1`).
 *
 * @module
 */

const PROVIDER = 'azure-devops';
const EVENTS_PATH = /\/_apis\/distributedtask\/hubs\/[^/]+\/plans\/[^/]+\/events$/;

const HINTS = {
  400: 'Azure DevOps refused the event (taskId/jobId do not match the waiting check?)',
  401: 'AuthToken refused: it is scoped to the run and dies with it (check timed out or cancelled?)',
  403: 'AuthToken lacks access to this plan',
  404: 'plan not found: the run is gone or the PlanUrl/ProjectId/hub in the callback is wrong',
};

/**
 * The events endpoint is preview-only; a non-preview api-version (e.g. `7.1`) is refused with
 * "-preview flag must be supplied", so add the flag.
 */
export function withPreviewVersion(raw: string): URL {
  const url = new URL(raw);
  const version = url.searchParams.get('api-version');
  if (!version) url.searchParams.set('api-version', '7.1-preview.1');
  else if (!version.includes('-preview'))
    url.searchParams.set('api-version', `${version}-preview.1`);
  return url;
}

/** `…/plans/{plan}/events` → `…/plans/{plan}/timelines/{timeline}/records/{job}/feed`. */
export function feedUrl(eventsUrl: string, timelineId: string, jobId: string): string {
  const url = withPreviewVersion(eventsUrl);
  url.pathname = url.pathname.replace(
    /\/events$/,
    `/timelines/${encodeURIComponent(timelineId)}/records/${encodeURIComponent(jobId)}/feed`,
  );
  return url.href;
}

function param(callback: Callback, name: string): string {
  const value = callback.params[name];
  if (!value) throw new CallbackRefusedError(`azure-devops callback lacks params.${name}`);
  return value;
}

/** @example createAzureDevopsClient({ sealer }, { fetchImpl: fetch, timeoutMs: 10_000 }) */
export function createAzureDevopsClient(
  { sealer }: { sealer: Sealer },
  deps: HttpDeps,
): CallbackClient {
  async function authorization(callback: Callback): Promise<string> {
    if (!new URL(callback.url).pathname.match(EVENTS_PATH)) {
      throw new CallbackRefusedError('azure-devops callback is not a plans/:plan/events URL');
    }
    if (!callback.sealed)
      throw new CallbackRefusedError('azure-devops callback has no sealed AuthToken');
    let authToken: string | undefined;
    try {
      authToken = (await sealer.open(callback.sealed)).authToken;
    } catch {
      // The cause is dropped on purpose: nothing about the sealed value goes into errors.
      throw new CallbackRefusedError(
        'azure-devops sealed AuthToken cannot be opened (key rotated?)',
      );
    }
    if (!authToken) throw new CallbackRefusedError('azure-devops sealed value has no authToken');
    return `Basic ${Buffer.from(`:${authToken}`).toString('base64')}`;
  }

  async function post(callback: Callback, url: string, body: unknown) {
    return send(deps, PROVIDER, url, {
      method: 'POST',
      headers: {
        authorization: await authorization(callback),
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
  }

  return {
    async decide(callback, decision): Promise<DecideResult> {
      const reply = await post(callback, withPreviewVersion(callback.url).href, {
        name: 'TaskCompleted',
        taskId: param(callback, 'taskInstanceId'),
        jobId: param(callback, 'jobId'),
        result: decision.outcome === 'approve' ? 'succeeded' : 'failed',
      });
      // No distinct "already completed" answer is documented, so a 2xx repeat counts as done.
      if (reply.status >= 200 && reply.status < 300) {
        return { status: 'done', httpStatus: reply.status };
      }
      throw failure(PROVIDER, reply, HINTS);
    },

    async comment(callback, text) {
      const url = feedUrl(callback.url, param(callback, 'timelineId'), param(callback, 'jobId'));
      const reply = await post(callback, url, { value: [text], count: 1 });
      if (reply.status < 200 || reply.status >= 300) throw failure(PROVIDER, reply, HINTS);
    },
  };
}
