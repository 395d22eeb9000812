import { afterEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { MemoryBus } from '../../../src/bus/memory.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { createStatusRoutes, type ChangeActions } from '../../../src/web/routes.js';
import { startStatusPage, statusPageMode } from '../../../src/web/start-status-page.js';
import type { StatusSource } from '../../../src/web/status-source.js';
import { StatusStore } from '../../../src/web/status-store.js';

const TOKEN = 'a-status-token-of-some-length';
const log = createLogger({ level: 'silent' });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function storeSource(store = new StatusStore()): StatusSource & { store: StatusStore } {
  return {
    store,
    snapshot: () => store.snapshot(),
    onChange: (l) => store.onChange(l),
    close: async () => undefined,
  };
}

function mount(options: { token?: string; actions?: ChangeActions; store?: StatusStore } = {}) {
  const source = storeSource(options.store);
  const routes = createStatusRoutes({
    source,
    log,
    ...(options.token ? { token: options.token } : {}),
    ...(options.actions ? { actions: options.actions } : {}),
  });
  closers.push(routes.close);
  const app = new Hono();
  app.route('/status', routes.app);
  return { app, store: source.store };
}

const waitingGate = (project: string) => ({
  number: 'CHG7',
  change: { state: '-3', approval: 'requested' },
  gates: {
    g1: {
      gate: {
        gateId: 'g1',
        changeNumber: 'CHG7',
        provider: 'github',
        project,
        environment: 'production',
        registeredAt: '2026-11-25T10:00:00.000Z',
      },
      status: 'waiting',
      reason: "awaiting approval (approval is 'requested')",
    },
  },
  touchedAt: 0,
});

describe('status page routes', () => {
  it('answers 401 with a sign-in form without a token, and 200 with the bearer token', async () => {
    const { app } = mount({ token: TOKEN });
    const missing = await app.request('/status');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="changegate-status"');
    expect(await missing.text()).toContain('name="token"');
    expect(
      (await app.request('/status', { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const ok = await app.request('/status', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
  });

  it('turns the typed token into an HttpOnly SameSite=Strict cookie that opens the page', async () => {
    const { app } = mount({ token: TOKEN });
    const signIn = await app.request('/status/session', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'sec-fetch-site': 'same-origin',
      },
      body: `token=${encodeURIComponent(TOKEN)}`,
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await app.request('/status', { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
  });

  it('escapes what CI systems sent, so a project name cannot inject markup', async () => {
    const store = new StatusStore();
    store.applyGateState('CHG7', waitingGate('<script>alert(1)</script>'));
    const { app } = mount({ store });
    const body = await (await app.request('/status')).text();
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain('<script>alert(1)');
    expect(body).toContain('awaiting approval');
  });

  it('has no decision routes or buttons unless the sandbox demo supplies actions', async () => {
    const store = new StatusStore();
    store.applyGateState('CHG7', waitingGate('acme/web'));
    const { app } = mount({ store });
    expect(await (await app.request('/status')).text()).not.toContain('Approve');
    const res = await app.request('/status/changes/CHG7/approve', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(res.status).toBe(404);
  });

  it('approves through the supplied actions, and refuses a cross-site post', async () => {
    const approved: string[] = [];
    const store = new StatusStore();
    store.applyGateState('CHG7', waitingGate('acme/web'));
    const { app } = mount({
      store,
      actions: { approve: (n) => approved.push(n), reject: () => undefined },
    });
    expect(await (await app.request('/status')).text()).toContain('aria-label="Approve CHG7"');
    const cross = await app.request('/status/changes/CHG7/approve', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(cross.status).toBe(403);
    const same = await app.request('/status/changes/CHG7/approve', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(same.status).toBe(303);
    expect(approved).toEqual(['CHG7']);
  });

  it('streams the present state first, then a re-render after a change', async () => {
    const { app, store } = mount();
    const res = await app.request('/status/events');
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value);
    };
    await readUntil('\n\n');
    expect(text).toMatch(/^event: update\n/);
    expect(text).toContain('No gates yet.');
    store.applyGateState('CHG7', waitingGate('acme/web'));
    await readUntil('CHG7');
    expect(text).toContain('awaiting approval');
    await reader.cancel();
  });
});

describe('statusPageMode', () => {
  const config = (raw: object) =>
    ConfigSchema.parse({
      kafka: { brokers: ['k:9092'] },
      security: { encryptionKey: Buffer.alloc(32, 1).toString('base64') },
      ...raw,
    });

  it('is off without a token outside the embedded mode, open in it, token-bound with one', () => {
    expect(statusPageMode(config({}))).toBe('off');
    expect(statusPageMode(config({ bus: 'memory' }))).toBe('open');
    expect(statusPageMode(config({ web: { token: TOKEN } }))).toBe('token');
    expect(statusPageMode(config({ bus: 'memory', web: { enabled: false } }))).toBe('off');
  });

  it('rejects a token too short to be one', () => {
    expect(() => config({ web: { token: 'short' } })).toThrow(/at least 16/);
  });

  it('fills the page from the bus: a gate-state record shows up in the snapshot', async () => {
    const bus = new MemoryBus();
    closers.push(() => bus.close());
    const cfg = config({ bus: 'memory' });
    const page = await startStatusPage({ config: cfg, bus, log });
    closers.unshift(() => page!.close());
    const app = new Hono();
    page!.mount(app);
    await bus.publish([
      {
        topic: cfg.kafka.topics.gateState,
        key: 'CHG7',
        // As the gate worker's state kit writes it: the state in an envelope with its timers.
        value: Buffer.from(JSON.stringify({ state: waitingGate('acme/web'), timers: {} })),
        headers: {},
      },
    ]);
    let snapshot: { gates: { changeNumber: string }[] } = { gates: [] };
    for (let i = 0; i < 100 && snapshot.gates.length === 0; i++) {
      snapshot = (await (await app.request('/status/snapshot.json')).json()) as typeof snapshot;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(snapshot.gates.map((g) => g.changeNumber)).toEqual(['CHG7']);
  });
});
