import { UpstreamError } from '../../errors.js';
import type { Callback } from '../../events/common.js';
import { CallbackRefusedError } from '../../ci/errors.js';
import { detail, failure, send, type HttpDeps, type HttpReply } from '../../ci/http.js';
import type { CallbackClient, CiLog, DecideResult } from '../../ci/port.js';

/**
 * Jenkins `input` step (pipeline-input-step): `POST {build}/input/{Id}/proceedEmpty` or `/abort`.
 * What the plugin answers (`InputStepExecution.java`) and what we make of it:
 * - `200` (`HttpResponses.ok()`): settled by this call → done. Nothing else counts as done:
 *   only the form's `/submit` redirects, so a `302`/`303` here is a proxy or SSO page in front of
 *   Jenkins, not Jenkins settling the input; the input is still waiting.
 * - `400` with `X-Error: This input has been already given` (a `Failure`, rendered by core's
 *   `AbstractModelObject/error.jelly`) → already decided. A `400` naming the submitter or
 *   Job/Cancel → refused, with Jenkins' own sentence.
 * - `404`: the input is not pending (settled inputs are removed at once), the input id is wrong,
 *   or the user lacks Job/Read (Jenkins hides the job). One `GET {build}api/json` tells which
 *   half it is, and the error says so. The one 404 that counts as decided is a proceed repeated
 *   after the run already records our own user as approver (`ApproverAction.userId`, exported):
 *   our earlier call settled it and its answer was lost.
 * `InputStep.setId` capitalises the first letter (a-z is reserved for InputAction's own URLs).
 * Requests authenticated with an API token are exempt from CSRF; the crumb flow is the fallback
 * when a 403 asks for one.
 *
 * @module
 */

const PROVIDER = 'jenkins';
const ALREADY_GIVEN = /already (been )?given/i;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface JenkinsClientOptions {
  /** Credentials by host (`URL.host`, lower case). */
  credentials: Record<string, { user: string; apiToken: string }>;
}

/** Jenkins' own rule: an input id's first a-z letter is upper-cased in the URL. */
export function capitaliseInputId(id: string): string {
  return /^[a-z]/.test(id) ? id[0]!.toUpperCase() + id.slice(1) : id;
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

/** `http://j/job/app/42` + `changeGate` → `http://j/job/app/42/input/ChangeGate/proceedEmpty`. */
export function inputUrl(
  buildUrl: string,
  inputId: string,
  action: 'proceedEmpty' | 'abort',
): string {
  return `${withSlash(buildUrl)}input/${encodeURIComponent(capitaliseInputId(inputId))}/${action}`;
}

/** The Jenkins root (context path included) is everything before the first `/job/`. */
export function jenkinsRoot(buildUrl: string): string {
  const url = new URL(buildUrl);
  const at = url.pathname.indexOf('/job/');
  if (at < 0) throw new CallbackRefusedError('jenkins callback is not a /job/…/<build>/ URL');
  return `${url.origin}${url.pathname.slice(0, at)}/`;
}

/** A Jenkins answer that settled nothing; never retryable unless the status says so. */
function refusal(status: number, what: string, retryable = false): UpstreamError {
  return new UpstreamError(`[changegate/ci/${PROVIDER}] HTTP ${status}: ${what}`, {
    retryable,
    upstreamStatus: status,
  });
}

/** @example createJenkinsClient({ credentials: { 'jenkins:8080': { user, apiToken } } }, deps) */
export function createJenkinsClient(
  opts: JenkinsClientOptions,
  deps: HttpDeps & { log: CiLog },
): CallbackClient {
  async function crumbHeaders(root: string, auth: string): Promise<Record<string, string>> {
    const reply = await send(deps, PROVIDER, `${root}crumbIssuer/api/json`, {
      method: 'GET',
      headers: { authorization: auth, accept: 'application/json' },
    });
    if (reply.status !== 200) throw failure(PROVIDER, reply, { 404: 'no crumb issuer' });
    const { crumb, crumbRequestField } = JSON.parse(reply.text) as Record<string, string>;
    // The crumb is bound to the web session that issued it: send its cookie back.
    const cookie = reply.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { [crumbRequestField ?? 'Jenkins-Crumb']: crumb ?? '', ...(cookie ? { cookie } : {}) };
  }

  /**
   * After a 404: is it the build (missing, or hidden without Job/Read) or the input? Returns
   * already-decided only for a proceed the run shows our own user made.
   */
  async function explainNotFound(
    buildUrl: string,
    inputId: string,
    user: string,
    auth: string,
    action: 'proceedEmpty' | 'abort',
  ): Promise<DecideResult | UpstreamError> {
    const tree = 'building,result,actions[userId]';
    const probe = await send(deps, PROVIDER, `${withSlash(buildUrl)}api/json?tree=${tree}`, {
      method: 'GET',
      headers: { authorization: auth, accept: 'application/json' },
    });
    if (probe.status === 404) {
      return refusal(
        404,
        `build ${buildUrl} not found for ci.jenkins user ${user}: the build URL is wrong, or the user lacks Job/Read on the job (Jenkins answers 404 for jobs it hides); nothing was released`,
      );
    }
    if (probe.status !== 200) return failure(PROVIDER, probe);
    let state = '';
    try {
      const run = JSON.parse(probe.text) as {
        building?: unknown;
        result?: unknown;
        actions?: ({ userId?: unknown } | null)[];
      };
      const approvedByUs = (run.actions ?? []).some((a) => a?.userId === user);
      if (action === 'proceedEmpty' && approvedByUs) {
        deps.log.info(
          { provider: PROVIDER, httpStatus: 404 },
          'input no longer pending and the run records our user as approver: already decided',
        );
        return { status: 'already-decided', httpStatus: 404 };
      }
      state = ` (building: ${String(run.building)}, result: ${String(run.result)})`;
    } catch {
      // The probe only adds detail to the message.
    }
    return refusal(
      404,
      `input '${capitaliseInputId(inputId)}' is not pending on ${buildUrl}${state}: the input id is wrong, or the input was settled already (by a person, its own timeout, or an earlier call whose answer was lost); nothing was released by this call`,
    );
  }

  return {
    async decide(callback: Callback, decision): Promise<DecideResult> {
      const host = new URL(callback.url).host.toLowerCase();
      const cred = opts.credentials[host];
      if (!cred) throw new CallbackRefusedError(`no ci.jenkins credentials for host ${host}`);
      const root = jenkinsRoot(callback.url);
      const auth = `Basic ${Buffer.from(`${cred.user}:${cred.apiToken}`).toString('base64')}`;
      const action = decision.outcome === 'approve' ? 'proceedEmpty' : 'abort';
      const inputId = callback.params.inputId ?? 'ChangeGate';
      const url = inputUrl(callback.url, inputId, action);
      const post = (extra: Record<string, string> = {}) =>
        send(deps, PROVIDER, url, { method: 'POST', headers: { authorization: auth, ...extra } });

      let reply: HttpReply = await post();
      if (reply.status === 403 && /crumb/i.test(reply.text)) {
        reply = await post(await crumbHeaders(root, auth));
      }
      if (reply.status === 404) {
        const explained = await explainNotFound(callback.url, inputId, cred.user, auth, action);
        if (explained instanceof UpstreamError) throw explained;
        return explained;
      }
      return interpret(reply, cred.user, deps.log);
    },
  };
}

function interpret(reply: HttpReply, user: string, log: CiLog): DecideResult {
  const { status } = reply;
  if (status === 200) return { status: 'done', httpStatus: status };
  const jenkinsSays = reply.headers.get('x-error') ?? '';
  if (status === 400 && ALREADY_GIVEN.test(jenkinsSays || reply.text)) {
    log.info({ provider: PROVIDER, httpStatus: status }, 'input already given');
    return { status: 'already-decided', httpStatus: status };
  }
  if (REDIRECTS.has(status)) {
    const to = reply.headers.get('location') ?? '(no Location)';
    throw refusal(
      status,
      `redirected to ${to}; not followed and not a release (Jenkins answers proceedEmpty/abort with 200, only the browser form redirects), so the input is still waiting: a proxy or SSO login in front of Jenkins bounced the API call, or the build URL is not the one Jenkins serves (context path, http→https)`,
    );
  }
  if (status === 400 && jenkinsSays) {
    throw refusal(
      400,
      `Jenkins refused ci.jenkins user ${user}: "${jenkinsSays}" (add the user to the input's submitter list, or grant Job/Cancel for a reject)`,
    );
  }
  if (status >= 200 && status < 300) {
    throw refusal(
      status,
      `unexpected answer (Jenkins settles an input with 200)${reply.text ? ` (${detail(reply.text)})` : ''}`,
    );
  }
  throw failure(PROVIDER, reply, {
    401: 'credentials refused: check ci.jenkins.<host>.user and apiToken',
    403: 'the ci.jenkins user may not approve this input (Overall/Read, Job/Build or Job/Cancel)',
  });
}
