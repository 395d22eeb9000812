/**
 * `POST /oauth_token.do`: client_credentials, password and refresh_token grants. Failures answer
 * the platform's `401 {"error_description":"access_denied","error":"server_error"}`.
 *
 * @module
 */
import { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import type { SandboxEnv } from './http.js';

/** Build the OAuth token router (mount at `/oauth_token.do`). */
export function oauthRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  app.post('/', async (c) => {
    const denied = (): Response =>
      c.json({ error_description: 'access_denied', error: 'server_error' }, 401);
    const form = new URLSearchParams(await c.req.text());
    const grant = form.get('grant_type') ?? '';
    // Clients may send client credentials in the body or as HTTP Basic (RFC 6749 §2.3.1).
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
    if (!clientId && basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    if (!ctx.auth.checkClient(clientId, clientSecret)) return denied();
    const answer = (tokens: ReturnType<typeof ctx.auth.issue>): Response =>
      c.json({ ...tokens, scope: 'useraccount', token_type: 'Bearer' });

    if (grant === 'client_credentials') {
      // Runs as the OAuth application user: the first configured user.
      const user = ctx.auth.users[0];
      return user ? answer(ctx.auth.issue(user.username, false)) : denied();
    }
    if (grant === 'password') {
      const user = ctx.auth.checkPassword(form.get('username') ?? '', form.get('password') ?? '');
      return user ? answer(ctx.auth.issue(user.username, true)) : denied();
    }
    if (grant === 'refresh_token') {
      const token = form.get('refresh_token') ?? '';
      const user = ctx.auth.userOfRefreshToken(token);
      return user ? answer(ctx.auth.issue(user, true, token)) : denied();
    }
    return c.json(
      { error: 'unsupported_grant_type', error_description: `Unsupported grant_type: ${grant}` },
      400,
    );
  });
  return app;
}
