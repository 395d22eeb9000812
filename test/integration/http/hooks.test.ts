import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { createLogger } from '../../../src/log.js';
import {
  AUTH_TOKEN,
  basic,
  checkRequest,
  serviceHookRequest,
} from '../../fixtures/azure-devops-request.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { gitlabDocPayload } from '../../fixtures/gitlab-docs.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import { fixture, signedRequest } from '../../fixtures/standard-webhook-request.js';
import type { RawRequest } from '../../../src/receivers/types.js';
import { startTestReceiver, type TestReceiver } from '../../support/receiver.js';

const GITHUB = 'gh-hook-secret-of-the-hooks-test';
const GITLAB = 'gl-hook-token';
const WHSEC = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const AZURE = 'azure-hook:Hook-Pa55word!';
const LIMIT = 64 * 1024;

let receiver: TestReceiver;
let logs = '';
let cicd: ConsumedRecord[] = [];
let changes: ConsumedRecord[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  receiver = await startTestReceiver({
    config: { ingest: { maxBodyBytes: LIMIT } },
    sources: {
      github: { secrets: ['an-old-secret-still-in-rotation', GITHUB] },
      gitlab: { tokens: [GITLAB] },
      jenkins: { secrets: [WHSEC] },
      azureDevops: { basic: [AZURE] },
      servicenow: { secrets: [WHSEC] },
      generic: { argo: { secrets: [WHSEC] } },
    },
    log: createLogger({ level: 'debug', destination: sink }),
  });
  cicd = await receiver.records([receiver.config.kafka.topics.cicd]);
  changes = await receiver.records([receiver.config.kafka.topics.changes]);
});
afterAll(() => receiver?.close());
beforeEach(() => receiver.bus.setAvailable(true));

function post(path: string, request: Pick<RawRequest, 'headers' | 'body'>) {
  return fetch(`${receiver.url}${path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

const settle = () => new Promise((r) => setTimeout(r, 100));
const eventsWithId = (records: ConsumedRecord[], id: string) =>
  records.filter((r) => r.headers.ce_id === id);

const deliveries: [string, string, () => RawRequest, 'cicd' | 'changes'][] = [
  [
    'github',
    '/hooks/github',
    () =>
      githubRequest('workflow_run', githubFixture('workflow_run.completed'), {
        secret: GITHUB,
        deliveryId: 'gh-1',
      }),
    'cicd',
  ],
  [
    'gitlab',
    '/hooks/gitlab',
    () =>
      gitlabRequest('Deployment Hook', gitlabDocPayload('deployment'), {
        token: GITLAB,
        idempotencyKey: 'gl-1',
      } as never),
    'cicd',
  ],
  [
    'jenkins',
    '/hooks/jenkins',
    () =>
      signedRequest(fixture('jenkins/synthetic-deployment-requested.json'), {
        secret: WHSEC,
        id: 'jk-1',
        at: new Date(),
      }),
    'cicd',
  ],
  [
    'generic',
    '/hooks/generic/argo',
    () =>
      signedRequest(fixture('generic/synthetic-deployment-requested.json'), {
        secret: WHSEC,
        id: 'gn-1',
        at: new Date(),
      }),
    'cicd',
  ],
  [
    'azure-devops service hook',
    '/hooks/azure-devops',
    () =>
      serviceHookRequest(fixture('azure-devops/build-complete.json'), {
        authorization: basic('azure-hook', 'Hook-Pa55word!'),
      }),
    'cicd',
  ],
  [
    'servicenow',
    '/hooks/servicenow',
    () =>
      signedRequest(fixture('servicenow/synthetic-change-updated.json'), {
        secret: WHSEC,
        id: 'sn-1',
        at: new Date(),
      }),
    'changes',
  ],
];

describe('POST /hooks/*', () => {
  it.each(deliveries)(
    '%s: accepts a signed delivery once and publishes it once',
    async (_, path, make, topic) => {
      const first = await post(path, make());
      expect(first.status).toBe(202);
      const { ids } = (await first.json()) as { ids: string[] };
      const again = await post(path, make());
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ status: 'duplicate' });
      await settle();
      const records = topic === 'cicd' ? cicd : changes;
      expect(eventsWithId(records, ids[0]!)).toHaveLength(1);
      expect(fromRecord(eventsWithId(records, ids[0]!)[0]!).specversion).toBe('1.0');
    },
  );

  it.each(deliveries)(
    '%s: rejects a tampered body with 401 and publishes nothing',
    async (_, path, make) => {
      const request = make();
      const body = new Uint8Array([...request.body.slice(0, -1), 0x20]);
      const before = cicd.length + changes.length;
      const res = await post(path, { headers: request.headers, body });
      // Token-authenticated sources (Azure Basic auth, GitLab's plain token) cover no body bytes:
      // a changed body under the same delivery id is a redelivery to them; only signed ones 401.
      if (path === '/hooks/azure-devops' || path === '/hooks/gitlab') {
        expect(res.status).toBeLessThan(500);
        return;
      }
      expect(res.status).toBe(401);
      await settle();
      expect(cicd.length + changes.length).toBe(before);
    },
  );

  it.each(deliveries)('%s: rejects an unsigned delivery with 401', async (_, path, make) => {
    const request = make();
    const headers = new Headers({ 'content-type': 'application/json' });
    const res = await post(path, { headers, body: request.body });
    expect(res.status).toBe(401);
  });

  it('answers a ping 200 without publishing it', async () => {
    const before = cicd.length;
    const res = await post(
      '/hooks/github',
      githubRequest('ping', githubFixture('ping'), { secret: GITHUB, deliveryId: 'ping-1' }),
    );
    expect(res.status).toBe(200);
    await settle();
    expect(cicd.length).toBe(before);
  });

  it('accepts deliveries signed with an old secret during rotation', async () => {
    const res = await post(
      '/hooks/github',
      githubRequest('push', githubFixture('push'), {
        secret: 'an-old-secret-still-in-rotation',
        deliveryId: 'rot-1',
      }),
    );
    expect(res.status).toBe(202);
  });

  it('answers 404 for a source with no secret configured and for unknown routes', async () => {
    const generic = signedRequest(
      { type: 'ping', timestamp: new Date().toISOString(), data: {} },
      { secret: WHSEC, at: new Date() },
    );
    expect((await post('/hooks/generic/not-configured', generic)).status).toBe(404);
    expect((await post('/hooks/bitbucket', generic)).status).toBe(404);
    expect((await fetch(`${receiver.url}/nope`)).status).toBe(404);
  });

  it('rejects a Standard-Webhooks delivery signed outside the 5-minute window', async () => {
    const old = signedRequest(fixture('jenkins/synthetic-deployment-requested.json'), {
      secret: WHSEC,
      id: 'old-1',
      at: new Date(Date.now() - 10 * 60_000),
    });
    const res = await post('/hooks/jenkins', old);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/too old/);
  });

  it('answers 413 for a body over the limit, with or without Content-Length', async () => {
    const big = new Uint8Array(LIMIT + 1).fill(0x20);
    const request = githubRequest('push', {}, { secret: GITHUB, body: big });
    expect((await post('/hooks/github', request)).status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(LIMIT / 2).fill(0x20));
        c.close();
      },
    });
    const chunked = await fetch(`${receiver.url}/hooks/github`, {
      method: 'POST',
      headers: request.headers,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it.each([
    ['not JSON', 'this is not json', 'invalid_json'],
    ['truncated JSON', '{"zen": "x", "hook', 'invalid_json'],
    ['JSON of the wrong shape', '{"action":"requested","environment":42}', 'invalid_field'],
  ])(
    'accepts a verified body it cannot read (%s) as webhook.received with the reason',
    async (_, body, reason) => {
      const deliveryId = `bad-${reason}-${body.length}`;
      const res = await post(
        '/hooks/github',
        githubRequest('deployment_protection_rule', null, { secret: GITHUB, body, deliveryId }),
      );
      expect(res.status).toBe(202);
      await settle();
      const [event] = eventsWithId(cicd, deliveryId);
      expect(event?.headers.ce_type).toBe('dev.changegate.webhook.received');
      const data = (fromRecord(event!).data ?? {}) as { reason?: string; event?: string };
      expect(data.event).toBe('deployment_protection_rule');
      expect(
        data.reason?.startsWith(reason.split(':')[0]!) || data.reason?.startsWith('missing_field'),
      ).toBe(true);
    },
  );

  it.each<[string, string, () => RawRequest]>([
    [
      'gitlab',
      '/hooks/gitlab',
      () =>
        gitlabRequest('Deployment Hook', null, {
          token: GITLAB,
          body: '{"object_kind":"deployment"}',
          idempotencyKey: 'unread-gitlab',
        }),
    ],
    [
      'jenkins',
      '/hooks/jenkins',
      () =>
        signedRequest(
          { type: 'deployment.requested', data: {} },
          { secret: WHSEC, id: 'unread-jenkins', at: new Date() },
        ),
    ],
    [
      'servicenow',
      '/hooks/servicenow',
      () =>
        signedRequest(
          { type: 'change.updated', data: {} },
          { secret: WHSEC, id: 'unread-servicenow', at: new Date() },
        ),
    ],
    [
      'generic',
      '/hooks/generic/argo',
      () =>
        signedRequest('not json at all', { secret: WHSEC, id: 'unread-generic', at: new Date() }),
    ],
    [
      'azure-devops',
      '/hooks/azure-devops',
      () =>
        serviceHookRequest(
          { id: 'unread-azure', eventType: 'build.complete', resource: 42 },
          { authorization: basic('azure-hook', 'Hook-Pa55word!') },
        ),
    ],
  ])(
    'accepts a verified %s delivery it cannot normalize (202, webhook.received with the reason)',
    async (provider, path, make) => {
      const res = await post(path, make());
      expect(res.status).toBe(202);
      const { ids } = (await res.json()) as { ids: string[] };
      await settle();
      const [event] = eventsWithId(cicd, ids[0]!);
      expect(event?.headers.ce_type).toBe('dev.changegate.webhook.received');
      const data = fromRecord(event!).data as { provider: string; reason?: string };
      expect(data.provider).toBe(provider);
      expect(data.reason).toMatch(
        /^(missing_field|invalid_field|invalid_json|schema_mismatch|unknown)/,
      );
      // A redelivery of it is a duplicate like any other.
      expect((await post(path, make())).status).toBe(200);
    },
  );

  it('answers 401, not 202, to a body it cannot read when the signature is wrong', async () => {
    const res = await post(
      '/hooks/github',
      githubRequest('push', null, { secret: 'not-the-secret', body: 'this is not json' }),
    );
    expect(res.status).toBe(401);
  });

  it('spools while the bus is down (202, durability: spooled) and forwards each delivery once when it is back', async () => {
    receiver.bus.setAvailable(false);
    const make = () =>
      githubRequest('push', githubFixture('push'), { secret: GITHUB, deliveryId: 'outage-1' });
    const down = await post('/hooks/github', make());
    expect(down.status).toBe(202);
    expect(down.headers.get('changegate-durability')).toBe('spooled');
    const again = await post('/hooks/github', make());
    expect(again.status).toBe(200); // the sender retried: the spool already holds it
    await settle();
    expect(eventsWithId(cicd, 'outage-1')).toHaveLength(0);
    receiver.bus.setAvailable(true);
    await vi.waitFor(() => expect(eventsWithId(cicd, 'outage-1')).toHaveLength(1), 10_000);
    const after = await post('/hooks/github', make());
    expect(after.status).toBe(200);
    const next = await post(
      '/hooks/github',
      githubRequest('push', githubFixture('push'), {
        secret: GITHUB,
        deliveryId: 'outage-2',
        body: JSON.stringify({ ...githubFixture('push'), after: 'x' }),
      }),
    );
    expect(next.headers.get('changegate-durability')).toBe('kafka');
    await settle();
    expect(eventsWithId(cicd, 'outage-1')).toHaveLength(1);
  });

  it('answers an Azure DevOps check call within 3 s and never lets its AuthToken into an event', async () => {
    const started = performance.now();
    const res = await post(
      '/hooks/azure-devops',
      checkRequest(
        {
          ...fixture<Record<string, unknown>>('azure-devops/synthetic-check-body.json'),
          AuthToken: AUTH_TOKEN,
        },
        {
          authorization: basic('azure-hook', 'Hook-Pa55word!'),
        },
      ),
    );
    const elapsed = performance.now() - started;
    expect(res.status).toBe(202);
    expect(elapsed).toBeLessThan(3000);
    await settle();
    const all = cicd
      .map((r) => JSON.stringify({ h: r.headers, v: r.value?.toString() }))
      .join('\n');
    expect(all).not.toContain(AUTH_TOKEN);
    const check = cicd.find(
      (r) =>
        r.headers.ce_type === 'dev.changegate.deployment.requested' &&
        r.headers.ce_source === '/changegate/azure-devops',
    );
    expect(JSON.parse(check!.value!.toString()).callback.sealed).toMatch(/^ey/);
  });

  it('keeps serving after a barrage of malformed requests, and never answers 5xx', async () => {
    const bodies = fc.sample(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1')),
      ),
      60,
    );
    for (const [i, body] of bodies.entries()) {
      for (const path of [
        '/hooks/github',
        '/hooks/jenkins',
        '/hooks/azure-devops',
        '/hooks/servicenow',
        '/hooks/gitlab',
      ]) {
        const res = await post(path, {
          headers: new Headers({
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': `fuzz-${i}`,
          }),
          body: new TextEncoder().encode(body),
        });
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
    }
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
  });

  it('never answers 5xx to a correctly signed body of arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.json(),
        fc.constantFrom(
          'deployment_protection_rule',
          'workflow_run',
          'deployment_status',
          'push',
          'ping',
        ),
        async (json, event) => {
          const res = await post(
            '/hooks/github',
            githubRequest(event, null, {
              secret: GITHUB,
              body: json,
              deliveryId: `prop-${Math.random()}`,
            }),
          );
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('never writes a secret to the logs', () => {
    for (const secret of [GITHUB, GITLAB, WHSEC, 'Hook-Pa55word!', AUTH_TOKEN])
      expect(logs).not.toContain(secret);
    expect(logs).toContain('delivery rejected');
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${receiver.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${receiver.url}/readyz`)).json()).toMatchObject({
      status: 'ready',
      bus: 'memory',
    });
    const metrics = await (await fetch(`${receiver.url}/metrics`)).text();
    expect(metrics).toMatch(
      /changegate_deliveries_total\{source="github",outcome="accepted"\} \d+/,
    );
    expect(metrics).toMatch(
      /changegate_deliveries_total\{source="github",outcome="rejected_signature"\} \d+/,
    );
  });
});
