import type { Callback } from '../events/common.js';
import { CallbackRefusedError } from './errors.js';
import { failure, send, type HttpDeps, type HttpReply } from './http.js';
import type { CallbackClient, CiLog, DecideResult } from './port.js';

/**
 * Jenkins `input` step (pipeline-input-step): `POST {build}/input/{Id}/proceedEmpty` or `/abort`.
 * From the plugin source: `InputStep.setId` capitalises the first letter (a-z is reserved for
 * InputAction's own URLs); `InputAction.getDynamic(id)` returns null once the input is no longer
 * pending, which Stapler answers with 404; a settled-but-not-yet-removed input throws
 * `Failure("This input has been already given")`. Both mean already decided.
 * Requests authenticated with an API token are exempt from CSRF; the crumb flow is the fallback
 * when a 403 asks for one.
 *
 * @module
 */

const PROVIDER = 'jenkins';
const ALREADY_GIVEN = /already (been )?given/i;

export interface JenkinsClientOptions {
  /** Credentials by host (`URL.host`, lower case). */
  credentials: Record<string, { user: string; apiToken: string }>;
}

/** Jenkins' own rule: an input id's first a-z letter is upper-cased in the URL. */
export function capitaliseInputId(id: string): string {
  return /^[a-z]/.test(id) ? id[0]!.toUpperCase() + id.slice(1) : id;
}

/** `http://j/job/app/42` + `changeGate` → `http://j/job/app/42/input/ChangeGate/proceedEmpty`. */
export function inputUrl(
  buildUrl: string,
  inputId: string,
  action: 'proceedEmpty' | 'abort',
): string {
  const base = buildUrl.endsWith('/') ? buildUrl : `${buildUrl}/`;
  return `${base}input/${encodeURIComponent(capitaliseInputId(inputId))}/${action}`;
}

/** The Jenkins root (context path included) is everything before the first `/job/`. */
export function jenkinsRoot(buildUrl: string): string {
  const url = new URL(buildUrl);
  const at = url.pathname.indexOf('/job/');
  if (at < 0) throw new CallbackRefusedError('jenkins callback is not a /job/…/<build>/ URL');
  return `${url.origin}${url.pathname.slice(0, at)}/`;
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

  return {
    async decide(callback: Callback, decision): Promise<DecideResult> {
      const host = new URL(callback.url).host.toLowerCase();
      const cred = opts.credentials[host];
      if (!cred) throw new CallbackRefusedError(`no ci.jenkins credentials for host ${host}`);
      const root = jenkinsRoot(callback.url);
      const auth = `Basic ${Buffer.from(`${cred.user}:${cred.apiToken}`).toString('base64')}`;
      const action = decision.outcome === 'approve' ? 'proceedEmpty' : 'abort';
      const url = inputUrl(callback.url, callback.params.inputId ?? 'ChangeGate', action);
      const post = (extra: Record<string, string> = {}) =>
        send(deps, PROVIDER, url, { method: 'POST', headers: { authorization: auth, ...extra } });

      let reply: HttpReply = await post();
      if (reply.status === 403 && /crumb/i.test(reply.text)) {
        reply = await post(await crumbHeaders(root, auth));
      }
      return interpret(reply, deps.log);
    },
  };
}

function interpret(reply: HttpReply, log: CiLog): DecideResult {
  const { status } = reply;
  if (status >= 200 && status < 300) return { status: 'done', httpStatus: status };
  // Older plugin versions answer a settled input with a redirect back to the build page.
  const location = reply.headers.get('location') ?? '';
  if ((status === 302 || status === 303) && !/login/i.test(location)) {
    return { status: 'done', httpStatus: status };
  }
  if (ALREADY_GIVEN.test(reply.text)) return { status: 'already-decided', httpStatus: status };
  if (status === 404) {
    // Also what a wrong build URL or input id gets; Jenkins cannot tell us apart, so say so.
    log.warn({ provider: PROVIDER, httpStatus: status }, 'input not pending (or wrong input id)');
    return { status: 'already-decided', httpStatus: status };
  }
  throw failure(PROVIDER, reply, {
    400: 'Jenkins refused the input (is the ci.jenkins user in the input submitter list?)',
    401: 'credentials refused: check ci.jenkins.<host>.user and apiToken',
    403: 'the ci.jenkins user may not approve this input (submitter list or Job/Cancel)',
  });
}
