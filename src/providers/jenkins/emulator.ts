import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { credential, fault, open, reply, type Exchange } from '../../sandbox/ci/http.js';
import type { Recorder } from '../../sandbox/ci/recorder.js';

/**
 * Emulated Jenkins `input` step. Each behaviour names the source it follows
 * (jenkinsci/pipeline-input-step-plugin @ d2b888dfb50da740ab3602588d0189808c1ab9c7, and core):
 *
 * - `POST {build}/input/{Id}/proceedEmpty` and `/abort` answer `200` with an empty body
 *   (`InputStepExecution.doProceedEmpty`/`doAbort` → `HttpResponses.ok()`); only the form's
 *   `/submit` redirects, `302` to the build's console (`doSubmit` → `HttpResponses.redirectTo`).
 * - Settled but not yet removed: `Failure("This input has been already given")`; a user outside
 *   `submitter`: `Failure("You need to be alice to submit this.")` (abort: "You need to be 'alice'
 *   (or have Job/Cancel permissions) to cancel this."). A `Failure` renders core's
 *   `hudson/model/AbstractModelObject/error.jelly`: status `400`, header `X-Error: <message>`,
 *   an HTML page.
 * - Once settled the execution is removed (`postSettlement` → `InputAction.remove`), and
 *   `InputAction.getDynamic(id)` returns null for an id that is not pending: Stapler answers `404`.
 * - Proceeding adds an `ApproverAction(userId)` to the run (`InputStepExecution.proceed`), which
 *   is `@ExportedBean` with an exported `userId`: `GET {build}/api/json` lists it under `actions`.
 * - A job the user may not read is hidden: core `Jenkins.getItem` returns null without
 *   `Item.READ` (`404`), so a build URL and a missing Job/Read look the same.
 * - Basic `user:apiToken` is checked first (`401` otherwise); API-token requests are exempt from
 *   CSRF crumbs; with `requireCrumb` the crumb flow is demanded as for session auth.
 * - `contextPath` plays a Jenkins run with `--prefix=/jenkins` (every URL under the prefix).
 */

export type JenkinsInputState = 'waiting' | 'proceeded' | 'aborted';

export interface JenkinsPendingOptions {
  /** The input's `submitter` (comma-separated users); the API user is not in it unless named. */
  submitter?: string;
  /** False: the API user lacks Job/Read on the job (every request under it answers 404). */
  readable?: boolean;
}

export interface JenkinsEmulator {
  /**
   * Register a paused input; returns the build URL (with trailing slash, context path included).
   * @param job `app` or `folder/app/main` (each segment becomes `/job/<segment>`).
   */
  pending(job: string, build: number, inputId?: string, options?: JenkinsPendingOptions): string;
  state(job: string, build: number, inputId?: string): JenkinsInputState | undefined;
  /**
   * Settle an input as a person would, leaving it in the short "settled, not yet removed" window
   * (`keepUntilRemoved`) in which the plugin answers "already given", or removing it (default).
   */
  settle(
    job: string,
    build: number,
    outcome: 'proceeded' | 'aborted',
    options?: { inputId?: string; keepUntilRemoved?: boolean; by?: string },
  ): void;
}

interface Input {
  state: JenkinsInputState;
  /** Still listed by InputAction (pending, or settled inside the removal window). */
  listed: boolean;
  submitter?: string;
}

interface Build {
  readable: boolean;
  inputs: Map<string, Input>;
  /** Users who proceeded an input of this run (`ApproverAction`, one per proceed). */
  approvers: string[];
}

const INPUT_ACTION = /^(\/job\/.+\/\d+)\/input\/([^/]+)\/(proceedEmpty|abort|submit)$/;
const BUILD_API = /^(\/job\/.+\/\d+)\/api\/json$/;

/** Core's error.jelly: 400, `X-Error`, an HTML page with the message. */
function failurePage(x: Exchange, message: string): Response {
  const html = `<!DOCTYPE html><html><head><title>Jenkins</title></head><body><h1>Error</h1><p>${message}</p></body></html>`;
  return reply(x, 400, 'refused', html, {
    'x-error': message,
    'content-type': 'text/html;charset=utf-8',
  });
}

/** Mount the emulated Jenkins input, build API and crumb-issuer routes on `app`; returns the handle that registers pending gates. */
export function mountJenkins(
  app: Hono,
  rec: Recorder,
  opts: {
    user: string;
    token: string;
    requireCrumb: boolean;
    baseUrl: () => string;
    /** e.g. `/jenkins`; default none. */
    contextPath?: string;
  },
): JenkinsEmulator {
  const prefix = (opts.contextPath ?? '').replace(/\/+$/, '');
  const builds = new Map<string, Build>();
  const sessions = new Map<string, string>(); // JSESSIONID → crumb
  const buildPath = (job: string, build: number) =>
    `${job
      .split('/')
      .map((s) => `/job/${encodeURIComponent(s)}`)
      .join('')}/${build}`;
  const authorised = (header: string | undefined) => {
    const { user, secret } = credential(header);
    return user === opts.user && secret === opts.token;
  };
  /** The path below the context path, or undefined when the request is outside it. */
  const local = (c: Context) => {
    const path = new URL(c.req.url).pathname;
    if (!prefix) return path;
    return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : undefined;
  };
  const canSettle = (input: Input) =>
    !input.submitter ||
    input.submitter
      .split(',')
      .map((s) => s.trim())
      .includes(opts.user);

  app.get(`${prefix}/crumbIssuer/api/json`, async (c) => {
    const x = await open(c, 'jenkins', rec);
    if (!authorised(c.req.header('authorization'))) return reply(x, 401, 'refused', 'Unauthorized');
    const session = randomBytes(8).toString('hex');
    const crumb = randomBytes(16).toString('hex');
    sessions.set(session, crumb);
    return reply(
      x,
      200,
      'crumb',
      {
        _class: 'hudson.security.csrf.DefaultCrumbIssuer',
        crumb,
        crumbRequestField: 'Jenkins-Crumb',
      },
      { 'set-cookie': `JSESSIONID.emulator=${session}; Path=/; HttpOnly` },
    );
  });

  // `GET {build}/api/json`: the Run's exported fields (core `hudson.model.Run`: building, result).
  app.get(`${prefix}/job/*`, async (c) => {
    const x = await open(c, 'jenkins', rec);
    if (!authorised(c.req.header('authorization'))) return reply(x, 401, 'refused', 'Unauthorized');
    const match = BUILD_API.exec(local(c) ?? '');
    const build = match ? builds.get(match[1]!) : undefined;
    if (!match || !build || !build.readable) return reply(x, 404, 'not-pending', 'Not Found');
    const waiting = [...build.inputs.values()].some((i) => i.listed);
    const aborted = [...build.inputs.values()].some((i) => i.state === 'aborted');
    return reply(x, 200, 'read', {
      _class: 'org.jenkinsci.plugins.workflow.job.WorkflowRun',
      actions: build.approvers.map((userId) => ({
        _class: 'org.jenkinsci.plugins.workflow.support.steps.input.ApproverAction',
        userId,
      })),
      building: waiting || !aborted,
      result: aborted ? 'ABORTED' : null,
    });
  });

  app.post(`${prefix}/job/*`, async (c) => {
    const x = await open(c, 'jenkins', rec);
    const injected = fault(x);
    if (injected) return injected;
    if (!authorised(c.req.header('authorization'))) return reply(x, 401, 'refused', 'Unauthorized');
    if (opts.requireCrumb) {
      const session = /JSESSIONID\.emulator=([^;]+)/.exec(c.req.header('cookie') ?? '')?.[1];
      const crumb = session ? sessions.get(session) : undefined;
      if (!crumb || c.req.header('jenkins-crumb') !== crumb) {
        return reply(
          x,
          403,
          'refused',
          'HTTP ERROR 403 No valid crumb was included in the request',
        );
      }
    }
    const match = INPUT_ACTION.exec(local(c) ?? '');
    const build = match ? builds.get(match[1]!) : undefined;
    const input = match && build?.readable ? build.inputs.get(match[2]!) : undefined;
    if (!match || !input?.listed) return reply(x, 404, 'not-pending', 'Not Found');
    const action = match[3] as 'proceedEmpty' | 'abort' | 'submit';
    const proceed = action === 'proceedEmpty' || (action === 'submit' && x.raw.includes('proceed'));
    if (input.state !== 'waiting') return failurePage(x, 'This input has been already given');
    if (!canSettle(input)) {
      return failurePage(
        x,
        proceed
          ? `You need to be ${input.submitter} to submit this.`
          : `You need to be '${input.submitter}' (or have Job/Cancel permissions) to cancel this.`,
      );
    }
    input.state = proceed ? 'proceeded' : 'aborted';
    input.listed = false;
    if (proceed) build!.approvers.push(opts.user);
    if (action === 'submit') {
      return reply(x, 302, proceed ? 'released' : 'rejected', undefined, {
        location: `${opts.baseUrl()}${prefix}${match[1]}/console`,
      });
    }
    return reply(x, 200, proceed ? 'released' : 'rejected', '');
  });

  const inputOf = (job: string, build: number, inputId = 'ChangeGate') =>
    builds.get(buildPath(job, build))?.inputs.get(inputId);

  return {
    pending(job, build, inputId = 'ChangeGate', options = {}) {
      const path = buildPath(job, build);
      const entry = builds.get(path) ?? {
        readable: true,
        inputs: new Map<string, Input>(),
        approvers: [],
      };
      entry.readable = options.readable ?? true;
      entry.inputs.set(inputId, {
        state: 'waiting',
        listed: true,
        ...(options.submitter ? { submitter: options.submitter } : {}),
      });
      builds.set(path, entry);
      return `${opts.baseUrl()}${prefix}${path}/`;
    },
    state: (job, build, inputId) => inputOf(job, build, inputId)?.state,
    settle(job, build, outcome, options = {}) {
      const input = inputOf(job, build, options.inputId);
      if (!input) throw new Error(`no input on ${job} #${build}`);
      input.state = outcome;
      input.listed = options.keepUntilRemoved ?? false;
      if (outcome === 'proceeded')
        builds.get(buildPath(job, build))!.approvers.push(options.by ?? 'a-person');
    },
  };
}
