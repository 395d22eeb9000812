import { randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { PayloadTooLargeError } from '../errors.js';
import { bodyLimit } from '../http/body-limit.js';
import type { Logger } from '../log.js';
import { presentedToken, sameOrigin, SESSION_COOKIE, tokenMatches } from './auth.js';
import { LiveUpdates } from './live.js';
import { renderPage, renderSignIn } from './render-page.js';
import type { StatusSource } from './status-source.js';

/** Decisions the page may take: only the sandbox demo supplies them. */
export interface ChangeActions {
  approve(changeNumber: string): unknown;
  reject(changeNumber: string): unknown;
}

export interface StatusRoutesOptions {
  source: StatusSource;
  log: Logger;
  /** Where the routes are mounted (links and form actions use it). Default `/status`. */
  base?: string;
  /** Required bearer token; undefined serves the page to anyone (embedded mode only). */
  token?: string;
  actions?: ChangeActions;
}

export interface StatusRoutes {
  app: Hono;
  /** End every live stream (before the HTTP server closes, or it would wait for them). */
  close(): Promise<void>;
}

const CHANGE_NUMBER = /^[A-Za-z0-9_.-]{1,64}$/;
/** The sign-in form is one token field; the decision forms are empty. */
const FORM_MAX_BYTES = 4096;

/**
 * The status page routes: `GET /` (HTML), `GET /events` (SSE), `GET /snapshot.json`,
 * `POST /session` (sign-in form), and in the sandbox demo `POST /changes/:number/approve|reject`.
 *
 * @example app.route('/status', createStatusRoutes({ source, log, token }).app)
 */
export function createStatusRoutes({
  source,
  log,
  base = '/status',
  token,
  actions,
}: StatusRoutesOptions): StatusRoutes {
  const render = { base, actions: actions !== undefined };
  const live = new LiveUpdates(source, render, log);
  const app = new Hono();

  const secure = (c: Context) => {
    const nonce = randomBytes(16).toString('base64');
    c.header(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cache-Control', 'no-store');
    return nonce;
  };

  const signIn = (c: Context, wrong: boolean) => {
    const nonce = secure(c);
    c.header('WWW-Authenticate', 'Bearer realm="changegate-status"');
    return c.html(renderSignIn({ base, nonce, wrong }), 401);
  };

  // Before the token check: the sign-in form is the one route an anonymous client may post to.
  app.post('/session', bodyLimit(FORM_MAX_BYTES), async (c) => {
    if (!token) return c.redirect(base, 303);
    if (!sameOrigin(c)) return c.text('cross-origin request refused', 403);
    const form = await c.req.parseBody();
    const presented = typeof form.token === 'string' ? form.token : undefined;
    if (!tokenMatches(token, presented)) return signIn(c, true);
    setCookie(c, SESSION_COOKIE, presented!, {
      path: base,
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return c.redirect(base, 303);
  });

  app.use('*', async (c, next) => {
    if (token && !tokenMatches(token, presentedToken(c)))
      return signIn(c, presentedToken(c) !== undefined);
    await next();
  });

  app.get('/', (c) => {
    const nonce = secure(c);
    return c.html(renderPage(source.snapshot(), { ...render, nonce }));
  });

  app.get('/snapshot.json', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(source.snapshot());
  });

  app.get('/events', (c) => {
    // A non-200 answer makes EventSource stop instead of reconnecting into a closing server.
    if (live.isClosed) return c.text('shutting down', 503);
    return streamSSE(c, (stream) => live.serve(stream));
  });

  app.post('/changes/:number/:decision{approve|reject}', bodyLimit(FORM_MAX_BYTES), async (c) => {
    if (!actions) return c.notFound();
    if (!sameOrigin(c)) return c.text('cross-origin request refused', 403);
    const number = c.req.param('number');
    if (!CHANGE_NUMBER.test(number)) return c.text('not a change number', 400);
    const decision = c.req.param('decision') as 'approve' | 'reject';
    try {
      await actions[decision](number);
    } catch (err) {
      // The sandbox refuses a CR with no pending approval; say so instead of a 500.
      return c.text(err instanceof Error ? err.message : String(err), 409);
    }
    log.info({ number, decision }, 'status page decision sent to the ServiceNow sandbox');
    return c.redirect(base, 303);
  });

  // The body limit throws before any handler runs; answer it here too, so the page gives 413
  // wherever it is mounted.
  app.onError((err, c) => {
    if (err instanceof PayloadTooLargeError) {
      c.header('Connection', 'close');
      return c.text(err.message, 413);
    }
    throw err;
  });

  return { app, close: () => live.close() };
}
