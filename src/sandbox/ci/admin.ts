import type { Context, Hono } from 'hono';
import type { AzureEmulator } from '../../providers/azure-devops/emulator.js';
import type { GenericEmulator } from '../../providers/generic/emulator.js';
import type { GithubEmulator } from '../../providers/github/emulator.js';
import type { GitlabEmulator } from '../../providers/gitlab/emulator.js';
import type { JenkinsEmulator } from '../../providers/jenkins/emulator.js';
import type { CiProvider, Effect, Recorder } from './recorder.js';

/**
 * `/_emulator/*`: the CI emulator's control surface over HTTP, so a test in another process can
 * register pending gates and read what the emulator received. No auth: the emulator binds
 * 127.0.0.1 only, like the ServiceNow sandbox's `/sandbox/admin`.
 *
 * @module
 */

/** Path prefix of the admin API. */
export const EMULATOR_ADMIN_PREFIX = '/_emulator';

export interface EmulatorAdminHandles {
  rec: Recorder;
  github: GithubEmulator;
  gitlab: GitlabEmulator;
  azure: AzureEmulator;
  jenkins: JenkinsEmulator;
  generic: GenericEmulator;
}

const PROVIDERS: readonly CiProvider[] = ['github', 'gitlab', 'azure-devops', 'jenkins', 'generic'];

/** A request body field as a non-empty string (numbers accepted: ids often are). */
function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const missing = (c: Context, names: string[]) =>
  c.json({ error: `[changegate/sandbox/ci] body needs ${names.join(', ')}` }, 400);

/**
 * Mount the admin routes on the emulator's app. Calls to them are not recorded: `received`
 * answers what the emulated CI systems saw, not the test's own bookkeeping.
 * @example mountEmulatorAdmin(app, { rec, github, gitlab, azure, jenkins, generic })
 */
export function mountEmulatorAdmin(app: Hono, h: EmulatorAdminHandles): void {
  const p = EMULATOR_ADMIN_PREFIX;

  app.post(`${p}/github/pending`, async (c) => {
    const b = await jsonBody(c);
    const [owner, repo, runId, environment] = ['owner', 'repo', 'runId', 'environment'].map((n) =>
      field(b, n),
    );
    if (!owner || !repo || !runId || !environment)
      return missing(c, ['owner', 'repo', 'runId', 'environment']);
    return c.json({ url: h.github.pending(owner, repo, runId, environment) }, 201);
  });

  app.post(`${p}/github/commits`, async (c) => {
    const b = await jsonBody(c);
    const [owner, repo, sha, message] = ['owner', 'repo', 'sha', 'message'].map((n) => field(b, n));
    if (!owner || !repo || !sha || !message) return missing(c, ['owner', 'repo', 'sha', 'message']);
    h.github.commit(owner, repo, sha, message, field(b, 'installationId'));
    return c.json({ ok: true }, 201);
  });

  /** Where the App's webhook sends: `{ url, secret }`. */
  app.post(`${p}/github/hook`, async (c) => {
    const b = await jsonBody(c);
    const [url, secret] = [field(b, 'url'), field(b, 'secret')];
    if (!url || !secret) return missing(c, ['url', 'secret']);
    h.github.hook.configure({ url, secret });
    return c.json({ ok: true });
  });

  /** Send a webhook delivery `{ event, payload }` now; answers the delivery as logged. */
  app.post(`${p}/github/deliveries`, async (c) => {
    const b = await jsonBody(c);
    const event = field(b, 'event');
    const payload = b.payload;
    if (!event || typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return missing(c, ['event', 'payload (object)']);
    try {
      return c.json(await h.github.hook.deliver(event, payload as Record<string, unknown>), 201);
    } catch (err) {
      return c.json({ error: (err as Error).message }, 409);
    }
  });

  /** The delivery log, newest first: what the App's webhook sent and what it was answered. */
  app.get(`${p}/github/deliveries`, (c) => c.json({ deliveries: h.github.hook.log() }));

  /**
   * Switch GitHub's rate limit on: `{ kind: primary|secondary, status?: 403|429, times?,
   * resetInSeconds?, retryAfterSeconds? }`; without `times` it holds until DELETE.
   */
  app.post(`${p}/github/rate-limit`, async (c) => {
    const b = await jsonBody(c);
    const kind = b.kind;
    const status = b.status === undefined ? 403 : Number(b.status);
    const num = (v: unknown) => (v === undefined ? undefined : Number(v));
    const [times, resetInSeconds, retryAfterSeconds] = [
      num(b.times),
      num(b.resetInSeconds),
      num(b.retryAfterSeconds),
    ];
    const bad = [times, resetInSeconds, retryAfterSeconds].some(
      (v) => v !== undefined && (!Number.isInteger(v) || v < 0),
    );
    if ((kind !== 'primary' && kind !== 'secondary') || (status !== 403 && status !== 429) || bad)
      return missing(c, [
        'kind (primary|secondary)',
        'optional status (403|429), times, resetInSeconds, retryAfterSeconds (integers ≥ 0)',
      ]);
    h.github.rateLimit({ kind, status, times, resetInSeconds, retryAfterSeconds });
    return c.json({ ok: true });
  });

  app.delete(`${p}/github/rate-limit`, (c) => {
    h.github.clearRateLimit();
    return c.json({ ok: true });
  });

  // A pipeline whose deploy job waits for approval; its Pipeline Hook goes to the hook target.
  app.post(`${p}/gitlab/pipelines`, async (c) => {
    const b = await jsonBody(c);
    const num = (n: string) => (field(b, n) === undefined ? undefined : Number(field(b, n)));
    const created = await h.gitlab.pipeline({
      ...(num('projectId') !== undefined ? { projectId: num('projectId')! } : {}),
      ...(field(b, 'projectPath') ? { projectPath: field(b, 'projectPath')! } : {}),
      ...(field(b, 'environment') ? { environment: field(b, 'environment')! } : {}),
      ...(field(b, 'commitMessage') ? { commitMessage: field(b, 'commitMessage')! } : {}),
      ...(num('requiredApprovals') !== undefined
        ? { requiredApprovals: num('requiredApprovals')! }
        : {}),
      ...(b.deliver === false ? { deliver: false } : {}),
    });
    return c.json(created, 201);
  });

  app.post(`${p}/gitlab/hooks`, async (c) => {
    const b = await jsonBody(c);
    const [url, token] = [field(b, 'url'), field(b, 'token')];
    if (!url || !token) return missing(c, ['url', 'token']);
    h.gitlab.hooks({ url, token });
    return c.json({ ok: true });
  });

  app.post(`${p}/azure/pending`, async (c) => {
    const b = await jsonBody(c);
    const hubName = field(b, 'hubName');
    // issuedAt (epoch ms): a check whose token is already old, e.g. past its 48 h.
    const issuedAt = typeof b.issuedAt === 'number' ? b.issuedAt : undefined;
    return c.json(
      h.azure.pending({
        ...(hubName ? { hubName } : {}),
        ...(issuedAt !== undefined ? { issuedAt } : {}),
      }),
      201,
    );
  });

  app.post(`${p}/jenkins/pending`, async (c) => {
    const b = await jsonBody(c);
    const [job, build, inputId] = [field(b, 'job'), Number(b.build), field(b, 'inputId')];
    if (!job || !Number.isInteger(build) || build < 1) return missing(c, ['job', 'build']);
    const submitter = field(b, 'submitter');
    const options = {
      ...(submitter ? { submitter } : {}),
      ...(b.readable === false ? { readable: false } : {}),
    };
    return c.json({ url: h.jenkins.pending(job, build, inputId, options) }, 201);
  });

  app.post(`${p}/generic/pending`, async (c) => {
    const name = field(await jsonBody(c), 'name');
    if (!name) return missing(c, ['name']);
    return c.json({ url: h.generic.pending(name) }, 201);
  });

  /** `?provider=&effect=&pathContains=` narrow the list; all calls otherwise, oldest first. */
  app.get(`${p}/received`, (c) => {
    const provider = c.req.query('provider');
    const effect = c.req.query('effect') as Effect | undefined;
    const pathContains = c.req.query('pathContains');
    const calls = h.rec
      .received()
      .filter(
        (call) =>
          (!provider || call.provider === provider) &&
          (!effect || call.effect === effect) &&
          (!pathContains || call.path.includes(pathContains)),
      );
    return c.json({ calls });
  });

  app.post(`${p}/fail-next`, async (c) => {
    const b = await jsonBody(c);
    const provider = field(b, 'provider') as CiProvider | undefined;
    const status = Number(b.status);
    const times = b.times === undefined ? 1 : Number(b.times);
    if (!provider || !PROVIDERS.includes(provider) || !Number.isInteger(status))
      return missing(c, ['provider (github|gitlab|azure-devops|jenkins|generic)', 'status']);
    h.rec.failNext(provider, status, Number.isInteger(times) && times > 0 ? times : 1);
    return c.json({ ok: true });
  });

  app.post(`${p}/reset`, (c) => {
    h.rec.reset();
    return c.json({ ok: true });
  });
}
