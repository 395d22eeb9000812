import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { credential, fault, open, reply } from './http.js';
import type { Recorder } from './recorder.js';

/**
 * Emulated Jenkins `input` step: `POST {build}/input/{Id}/proceedEmpty|abort` with Basic
 * user:apiToken; 404 once the input is no longer pending (InputAction.getDynamic returns null).
 * With `requireCrumb` it also demands the crumb flow, as Jenkins does for non-token auth.
 */

export interface JenkinsEmulator {
  /**
   * Register a paused input; returns the build URL (with trailing slash).
   * @param job `app` or `folder/app/main` (each segment becomes `/job/<segment>`).
   */
  pending(job: string, build: number, inputId?: string): string;
  state(
    job: string,
    build: number,
    inputId?: string,
  ): 'waiting' | 'proceeded' | 'aborted' | undefined;
}

const INPUT_PATH = /^(\/job\/.+\/\d+)\/input\/([^/]+)\/(proceedEmpty|abort)$/;

/** Mount the emulated Jenkins input and crumb-issuer routes on `app`; returns the handle that registers pending gates. */
export function mountJenkins(
  app: Hono,
  rec: Recorder,
  opts: { user: string; token: string; requireCrumb: boolean; baseUrl: () => string },
): JenkinsEmulator {
  const inputs = new Map<string, 'waiting' | 'proceeded' | 'aborted'>();
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

  app.get('/crumbIssuer/api/json', async (c) => {
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

  app.post('/job/*', async (c) => {
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
    const match = INPUT_PATH.exec(new URL(c.req.url).pathname);
    const key = match ? `${match[1]}/${match[2]}` : '';
    if (!match || inputs.get(key) !== 'waiting') return reply(x, 404, 'not-pending', 'Not Found');
    const proceed = match[3] === 'proceedEmpty';
    inputs.set(key, proceed ? 'proceeded' : 'aborted');
    return reply(x, 200, proceed ? 'released' : 'rejected', '');
  });

  return {
    pending(job, build, inputId = 'ChangeGate') {
      inputs.set(`${buildPath(job, build)}/${inputId}`, 'waiting');
      return `${opts.baseUrl()}${buildPath(job, build)}/`;
    },
    state: (job, build, inputId = 'ChangeGate') =>
      inputs.get(`${buildPath(job, build)}/${inputId}`),
  };
}
