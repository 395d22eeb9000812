/**
 * Starts the ServiceNow sandbox: a real HTTP server (Hono on node:http) with the Table, Change
 * Management, Attachment, identifyreconcile and OAuth APIs, business rules and fault injection.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createAdmin, DEFAULT_TEMPLATES, seed, type SandboxAdmin } from './admin.js';
import {
  ApprovalEngine,
  APPROVER_USERS,
  DEFAULT_APPROVERS,
  type ApproverConfig,
} from './approvals.js';
import { Auth, DEFAULT_USER } from './auth.js';
import { OutboundDispatcher, type RuleConfig } from './business-rules.js';
import { afterResponse, type SandboxContext } from './context.js';
import { Dictionary, type DictionaryExtension } from './dictionary.js';
import { Faults } from './faults.js';
import { DEFAULT_READ_ACLS } from './routes/http.js';
import { adminRoutes } from './routes/admin.js';
import { attachmentRoutes } from './routes/attachment.js';
import { batchRoutes } from './routes/batch.js';
import { changeRoutes } from './routes/change.js';
import { fail, type SandboxEnv } from './routes/http.js';
import { identifyRoutes } from './routes/identify.js';
import { oauthRoutes } from './routes/oauth.js';
import { tableRoutes } from './routes/table.js';
import { Store } from './store.js';
import type { ChangeTemplate, OutboundTarget, RequestLogEntry, SandboxUser } from './types.js';
import { snError } from './util.js';

export interface ServiceNowSandboxOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Shown in errors and the startup banner. Default `changegate-sandbox`. */
  instanceName?: string;
  /** Enables the client_credentials/password/refresh_token grants of `/oauth_token.do`. */
  oauth?: { clientId: string; clientSecret: string; tokenTtlSeconds?: number };
  /** Default: one `changegate.integration` / `changegate` user with itil, change_manager, …. */
  users?: SandboxUser[];
  /** Business-rule targets (changegate's `/hooks/servicenow`). */
  outbound?: OutboundTarget[];
  /** The instance's `changegate.fields.<table>` properties and extra rule-condition fields. */
  outboundRules?: RuleConfig;
  /** Random 0..N ms delay per outbound message, so deliveries can arrive out of order. */
  outboundJitterMs?: number;
  /** Standard change templates; default two (see DEFAULT_TEMPLATES). */
  templates?: ChangeTemplate[];
  /** Seed users, groups and a few CIs. Default true. */
  seed?: boolean;
  /** Clock for sys_ timestamps, token expiry and outbound timestamps. */
  clock?: () => Date;
  /** Attachment size limit in bytes. Default 10 MiB. */
  attachmentMaxBytes?: number;
  /** identifyreconcile identification attributes per class (default `['name']`). */
  identificationRules?: Record<string, string[]>;
  /**
   * Tables or columns this instance has beyond the base dictionary (custom `u_` fields the
   * install kit or an admin added). A field not in the dictionary does not exist.
   */
  dictionary?: DictionaryExtension;
  /** The system property `glide.invalid_query.returns_no_rows` (default false, as shipped). */
  invalidQueryReturnsNoRows?: boolean;
  /** Approvers per stage (user_names); default tech.approver (technical), cab.approver (CAB). */
  approvers?: ApproverConfig;
  /**
   * Row-level read ACLs: a table's rows are visible only to these roles; anyone else gets them
   * filtered out (200, fewer rows; 404 by sys_id), not refused. Default
   * `{ sys_journal_field: ['admin'] }`; pass the install kit's ACL role to model it installed.
   */
  readAcls?: Record<string, string[]>;
  /** Serve HTTPS with this PEM key and certificate (ServiceNow's own clients refuse http://). */
  tls?: { key: string; cert: string };
}

export interface ServiceNowSandbox {
  /** `http://127.0.0.1:<port>`, the instance URL to give a client. */
  url: string;
  admin: SandboxAdmin;
  close(): Promise<void>;
}

function waitForClose(incoming: {
  socket: { destroyed: boolean; once(e: 'close', f: () => void): unknown };
}): Promise<void> {
  return new Promise((resolve) => {
    if (incoming.socket.destroyed) resolve();
    else incoming.socket.once('close', () => resolve());
  });
}

/**
 * Start a sandbox instance.
 * @example
 * const sn = await startServiceNowSandbox({ oauth: { clientId: 'id', clientSecret: 's' } });
 * await fetch(`${sn.url}/api/now/table/incident`, { headers: { authorization: 'Basic …' } });
 * await sn.close();
 */
export async function startServiceNowSandbox(
  opts: ServiceNowSandboxOptions = {},
): Promise<ServiceNowSandbox> {
  const clock = opts.clock ?? (() => new Date());
  const configured = opts.users ?? [DEFAULT_USER];
  const users = [
    ...configured,
    ...APPROVER_USERS.filter((a) => !configured.some((u) => u.username === a.username)),
  ];
  const faults = new Faults();
  const store = new Store(clock, new Dictionary(opts.dictionary));
  const ctx: SandboxContext = {
    instanceName: opts.instanceName ?? 'changegate-sandbox',
    store,
    auth: new Auth(users, opts.oauth, clock),
    faults,
    outbound: new OutboundDispatcher(opts.outbound ?? [], {
      clock,
      faults,
      ...(opts.outboundJitterMs ? { jitterMs: opts.outboundJitterMs } : {}),
      ...(opts.outboundRules ? { rules: opts.outboundRules } : {}),
    }),
    clock,
    attachments: new Map(),
    attachmentMaxBytes: opts.attachmentMaxBytes ?? 10 * 1024 * 1024,
    identificationRules: opts.identificationRules ?? {},
    invalidQueryReturnsNoRows: opts.invalidQueryReturnsNoRows ?? false,
    readAcls: { ...DEFAULT_READ_ACLS, ...(opts.readAcls ?? {}) },
    requestLog: [],
    baseUrl: '',
    deferred: new AsyncLocalStorage(),
  };
  store.onWrite((table, record, operation, previous) =>
    afterResponse(ctx, () => ctx.outbound.schedule(table, record, previous)),
  );
  new ApprovalEngine(store, opts.approvers ?? DEFAULT_APPROVERS).attach();
  const reseed = (): void =>
    seed(ctx, configured, opts.templates ?? DEFAULT_TEMPLATES, opts.seed ?? true);
  reseed();
  const admin = createAdmin(ctx, reseed);

  const app = new Hono<SandboxEnv>();
  app.route('/sandbox/admin', adminRoutes(admin));

  // Request log + faults + deferred business rules for everything that is not the admin API.
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/sandbox/admin')) return next();
    const url = new URL(c.req.url);
    const entry: RequestLogEntry = {
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      status: 0,
      at: clock().toISOString(),
    };
    ctx.requestLog.push(entry);
    const fault = faults.take(c.req.method, url.pathname);
    if (fault) entry.fault = fault.kind;
    const queue: (() => void)[] = [];
    const outgoing = c.env.outgoing;
    // An async business rule runs once the transaction is over: after the response (or reset).
    outgoing.once('close', () => queue.splice(0).forEach((fn) => fn()));

    switch (fault?.kind) {
      case '429': {
        const retry = fault.retryAfterSeconds ?? 1;
        const reset = Math.floor(clock().getTime() / 1000) + retry;
        c.header('Retry-After', String(retry));
        c.header('X-RateLimit-Limit', '1000');
        c.header('X-RateLimit-Reset', String(reset));
        c.header('X-RateLimit-Rule', 'b1ea3ab1c0a8016401c5a33be04be441');
        entry.status = 429;
        return fail(
          c,
          429,
          'Too Many Requests',
          `Rate limit of 1000 requests per hour exceeded for ${ctx.instanceName}; retry after ${retry}s`,
        );
      }
      case '500':
        entry.status = 500;
        return c.json(
          snError(
            'Internal Server Error',
            `Unexpected error on ${ctx.instanceName} (injected fault)`,
          ),
          500,
        );
      case '503':
        // A node that is down answers from the load balancer with HTML, not the JSON envelope.
        entry.status = 503;
        c.header('Retry-After', String(fault.retryAfterSeconds ?? 1));
        return c.html(
          `<html><body><h1>Service Unavailable</h1><p>${ctx.instanceName} is temporarily unavailable.</p></body></html>`,
          503,
        );
      case 'timeout':
        await waitForClose(c.env.incoming);
        return c.body(null, 504);
      case 'latency':
        await new Promise((r) => setTimeout(r, fault.latencyMs ?? 1000));
        break;
      default:
        break;
    }
    await ctx.deferred.run(queue, () => next());
    if (fault?.kind === 'reset-after-commit') {
      // The write is committed; the client never learns it.
      c.env.incoming.socket.destroy();
      await waitForClose(c.env.incoming);
      return;
    }
    entry.status = c.res.status;
  });

  // Every API route needs Basic or Bearer auth.
  app.use('/api/*', async (c, next) => {
    const user = ctx.auth.authenticate(c.req.header('authorization'));
    if (!user) {
      c.header('WWW-Authenticate', 'Basic realm="Service-now"');
      return fail(c, 401, 'User Not Authenticated', 'Required to provide Auth information');
    }
    c.set('user', user);
    const entry = ctx.requestLog[ctx.requestLog.length - 1];
    if (entry) entry.user = user.username;
    return next();
  });

  app.route('/oauth_token.do', oauthRoutes(ctx));
  for (const prefix of ['/api/now/table', '/api/now/v1/table', '/api/now/v2/table'])
    app.route(prefix, tableRoutes(ctx));
  for (const prefix of ['/api/sn_chg_rest', '/api/sn_chg_rest/v1'])
    app.route(prefix, changeRoutes(ctx));
  for (const prefix of ['/api/now/attachment', '/api/now/v1/attachment'])
    app.route(prefix, attachmentRoutes(ctx));
  app.route('/api/now/identifyreconcile', identifyRoutes(ctx));
  app.route(
    '/api/now/v1/batch',
    batchRoutes((request, env) => app.fetch(request, env)),
  );

  app.notFound((c) => fail(c, 400, 'Requested URI does not represent any resource', null));
  app.onError((err, c) => fail(c, 500, 'Internal Server Error', err.message));

  const server: ServerType = await new Promise((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: opts.port ?? 0,
        hostname: opts.host ?? '127.0.0.1',
        ...(opts.tls ? { createServer: createHttpsServer, serverOptions: opts.tls } : {}),
      },
      () => resolve(s),
    );
  });
  const address = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  ctx.baseUrl = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  return {
    url: ctx.baseUrl,
    admin,
    close: async () => {
      const http = server as Server;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        // Hanging `timeout` faults and keep-alive sockets would hold close() forever.
        http.closeAllConnections();
      });
      await ctx.outbound.idle();
    },
  };
}
