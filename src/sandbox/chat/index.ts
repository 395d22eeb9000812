import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { verifyStandardWebhook } from '../../security/standard-webhooks.js';
import { checkSlack, checkTeams, type ChatKind, type Verdict } from './validate.js';

/**
 * A local Slack / Teams / signed-webhook receiver for tests and the demo: one HTTP server that
 * records every post, answers like the real services, and can be told to fail. Webhook URLs
 * are `${url}/slack/<hook>`, `${url}/teams/<hook>`, `${url}/webhook/<hook>`.
 *
 * @module
 */

export type { ChatKind } from './validate.js';

export type ChatEffect = 'accepted' | 'invalid' | 'refused' | 'duplicate' | 'fault';

export interface ChatPost {
  kind: ChatKind;
  hook: string;
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it was not JSON. */
  body: unknown;
  status: number;
  effect: ChatEffect;
  at: number;
}

export interface ChatReceiverOptions {
  /** 0 (default) picks a free port. Binds 127.0.0.1 only. */
  port?: number;
  /** whsec_… that webhook posts must be signed with. Omitted: a random one. */
  secret?: string;
}

export interface ChatReceiver {
  url: string;
  /** The secret webhook posts are verified with. */
  secret: string;
  slackUrl(hook?: string): string;
  teamsUrl(hook?: string): string;
  webhookUrl(hook?: string): string;
  /** Every post, in arrival order. */
  received(): ChatPost[];
  /** Posts that a real service would have shown (effect `accepted`). */
  accepted(kind?: ChatKind): ChatPost[];
  waitFor(predicate: (post: ChatPost) => boolean, timeoutMs?: number): Promise<ChatPost>;
  /** The next `times` posts to `kind` get `status` (429 comes with `Retry-After: 0`). */
  failNext(kind: ChatKind, status: number, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * @example
 * const chat = await startChatReceiver();
 * // notify.channels: [{ name: 'ops', kind: 'slack', url: chat.slackUrl('ops') }]
 * await chat.waitFor((p) => p.kind === 'slack');
 */
export async function startChatReceiver(options: ChatReceiverOptions = {}): Promise<ChatReceiver> {
  const secret = options.secret ?? `whsec_${randomBytes(32).toString('base64')}`;
  const posts: ChatPost[] = [];
  const waiters = new Set<{
    predicate: (p: ChatPost) => boolean;
    resolve: (p: ChatPost) => void;
  }>();
  const faults = new Map<ChatKind, number[]>();
  const seenIds = new Set<string>();

  const record = (post: Omit<ChatPost, 'at'>) => {
    const full = { ...post, at: Date.now() };
    posts.push(full);
    for (const w of waiters) {
      if (w.predicate(full)) {
        waiters.delete(w);
        w.resolve(full);
      }
    }
  };

  const handle = async (c: Context, kind: ChatKind): Promise<Response> => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const text = Buffer.from(raw).toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    const base = {
      kind,
      hook: c.req.param('hook') ?? '',
      headers: Object.fromEntries(c.req.raw.headers),
      body,
    };
    const fault = faults.get(kind)?.shift();
    if (fault !== undefined) {
      record({ ...base, status: fault, effect: 'fault' });
      if (fault === 429) c.header('Retry-After', '0');
      return c.text('fault injected', fault as 500);
    }
    let verdict: Verdict;
    if (kind === 'slack') verdict = checkSlack(body);
    else if (kind === 'teams') verdict = checkTeams(body);
    else {
      try {
        const id = verifyStandardWebhook(c.req.raw.headers, raw, [secret], {
          now: new Date(),
          toleranceSeconds: 300,
        });
        if (seenIds.has(id)) {
          record({ ...base, status: 200, effect: 'duplicate' });
          return c.text('duplicate', 200);
        }
        seenIds.add(id);
        verdict = { ok: true };
      } catch (err) {
        record({ ...base, status: 401, effect: 'refused' });
        return c.text((err as Error).message, 401);
      }
    }
    if (!verdict.ok) {
      record({ ...base, status: verdict.status, effect: 'invalid' });
      return c.text(verdict.text, verdict.status as 400);
    }
    const status = kind === 'teams' ? 202 : 200;
    record({ ...base, status, effect: 'accepted' });
    return kind === 'slack' ? c.text('ok', 200) : c.body(null, status);
  };

  const app = new Hono();
  app.post('/slack/:hook', (c) => handle(c, 'slack'));
  app.post('/teams/:hook', (c) => handle(c, 'teams'));
  app.post('/webhook/:hook', (c) => handle(c, 'webhook'));

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, () =>
      resolve(s),
    );
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    secret,
    slackUrl: (hook = 'changes') => `${url}/slack/${hook}`,
    teamsUrl: (hook = 'changes') => `${url}/teams/${hook}`,
    webhookUrl: (hook = 'changes') => `${url}/webhook/${hook}`,
    received: () => [...posts],
    accepted: (kind) => posts.filter((p) => p.effect === 'accepted' && (!kind || p.kind === kind)),
    waitFor(predicate, timeoutMs = 10_000) {
      const seen = posts.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (p: ChatPost) => {
            clearTimeout(timer);
            resolve(p);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`[changegate/sandbox/chat] no matching post within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    failNext(kind, status, times = 1) {
      faults.set(kind, [...(faults.get(kind) ?? []), ...Array<number>(times).fill(status)]);
    },
    reset() {
      posts.length = 0;
      faults.clear();
      seenIds.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
