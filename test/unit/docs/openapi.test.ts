import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { BusRecord } from '../../../src/bus/port.js';
import { loadConfig } from '../../../src/config/load.js';
import { BusUnavailableError } from '../../../src/errors.js';
import { createApp } from '../../../src/http/app.js';
import { openApiDocument } from '../../../src/http/openapi.js';
import { DeliveryLog } from '../../../src/ingest/delivery-log.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { RECEIVERS } from '../../../src/receivers/registry.js';
import type { RawRequest } from '../../../src/receivers/types.js';
import { checkRequest, serviceHookRequest } from '../../fixtures/azure-devops-request.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { gitlabDocPayload } from '../../fixtures/gitlab-docs.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import { fixture, signedRequest } from '../../fixtures/standard-webhook-request.js';

// ajv 8 (JSON Schema 2020-12) arrives with ajv-formats, a dependency of @asyncapi/parser; the
// top-level `ajv` is v6, which knows no 2020-12.
const requireFromFormats = createRequire(createRequire(import.meta.url).resolve('ajv-formats'));
type Validate = ((data: unknown) => boolean) & { errors?: unknown };
const Ajv2020 = requireFromFormats('ajv/dist/2020').default as new (o: object) => {
  addSchema(schema: object, key: string): void;
  compile(schema: object): Validate;
};
const addFormats = requireFromFormats('ajv-formats') as (ajv: unknown) => void;

type Json = Record<string, unknown>;
const doc = openApiDocument() as Json & { paths: Record<string, Record<string, Json>> };

const GITHUB = 'gh-hook-secret-of-the-openapi-test';
const GITLAB = 'gl-hook-token';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const AZURE = 'changegate:Hook-Pa55word!';
const LIMIT = 64 * 1024;

let busDown = false;
let limitedApp: ReturnType<typeof createApp>;
let ready = true;
let app: ReturnType<typeof createApp>;
const published: BusRecord[] = [];

beforeAll(() => {
  const config = loadConfig({
    env: {},
    overrides: (raw) =>
      Object.assign(raw, {
        bus: 'memory',
        ingest: { maxBodyBytes: LIMIT },
        sources: {
          github: { secrets: [GITHUB] },
          gitlab: { tokens: [GITLAB] },
          jenkins: { secrets: [WHSEC] },
          azureDevops: { basic: [AZURE] },
          servicenow: { secrets: [WHSEC] },
          generic: { argo: { secrets: [WHSEC] } },
        },
      }),
  });
  const bus = createMemoryBus();
  const deps = (c: typeof config) => ({
    config: c,
    bus: { kind: 'memory' as const, isReady: async () => ready },
    log: createLogger({
      level: 'silent',
      destination: new Writable({ write: (_c, _e, d) => d() }),
    }),
    metrics: createMetrics({ defaults: false }),
    publisher: { publish: async (records: BusRecord[]) => void published.push(...records) },
    deliveries: new DeliveryLog({ bus, topic: 'deliveries', windowMs: 60_000, maxEntries: 1000 }),
    seal: async () => 'sealed.jwe',
    receivers: RECEIVERS,
  });
  limitedApp = createApp(
    deps({
      ...config,
      ingest: { ...config.ingest, rateLimit: { perSourcePerSecond: 0.001, burst: 1 } },
    }),
  );
  app = createApp({
    config,
    bus: { kind: 'memory', isReady: async () => ready },
    log: createLogger({
      level: 'silent',
      destination: new Writable({ write: (_c, _e, d) => d() }),
    }),
    metrics: createMetrics({ defaults: false }),
    publisher: {
      publish: async (records) => {
        if (busDown) throw new BusUnavailableError('broker down', { retryAfterSeconds: 7 });
        published.push(...records);
      },
    },
    deliveries: new DeliveryLog({
      bus,
      topic: 'deliveries',
      windowMs: 60_000,
      maxEntries: 1000,
    }),
    seal: async () => 'sealed.jwe',
    receivers: RECEIVERS,
  });
});

/** Resolve `#/components/...` references, so a response schema stands on its own. */
function deref(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(deref);
  if (node === null || typeof node !== 'object') return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/')) {
    let target: unknown = doc;
    for (const part of ref.slice(2).split('/')) target = (target as Json)[part];
    return deref(target);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, deref(v)]));
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

/** The documented body schema of `status` for `method path`, or fail. */
function responseSchema(path: string, method: string, status: number): Json {
  const operation = doc.paths[path]?.[method];
  expect(operation, `${method} ${path} documented`).toBeDefined();
  const responses = deref((operation as Json).responses) as Record<string, Json>;
  const response = responses[String(status)];
  expect(response, `${method} ${path} documents ${status}`).toBeDefined();
  return response as Json;
}

async function send(path: string, raw: RawRequest): Promise<Response> {
  return app.request(path, { method: 'POST', headers: raw.headers, body: raw.body });
}

/** Assert the answer is one the document describes: its status, body schema and headers. */
async function conforms(path: string, res: Response, method = 'post'): Promise<Json> {
  const response = responseSchema(path, method, res.status);
  const content = response.content as Record<string, { schema: Json }>;
  const type = res.headers.get('content-type') ?? '';
  const [mediaType, media] = Object.entries(content).find(([t]) =>
    type.startsWith(t.split(';')[0]!),
  )!;
  expect(mediaType).toBeDefined();
  const text = await res.text();
  const body = type.startsWith('application/json') ? (JSON.parse(text) as Json) : text;
  const validate = ajv.compile(media.schema);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  for (const name of Object.keys((response.headers as Json | undefined) ?? {})) {
    expect(res.headers.get(name), `${name} header`).toBeTruthy();
  }
  return body as Json;
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 whose every schema compiles as JSON Schema 2020-12', () => {
    expect(doc.openapi).toBe('3.1.0');
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    for (const [name, schema] of Object.entries(schemas)) {
      expect(() => ajv.compile(deref(schema) as Json), name).not.toThrow();
    }
  });

  it('documents every receiver route and every route it documents is served', async () => {
    const hooks = Object.keys(RECEIVERS).map((name) =>
      name === 'generic' ? '/hooks/generic/{source}' : `/hooks/${name}`,
    );
    for (const path of [...hooks, '/healthz', '/readyz', '/metrics']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const method of Object.keys(operations)) {
        const res = await app.request(path.replace('{source}', 'argo'), {
          method: method.toUpperCase(),
        });
        const body = res.headers.get('content-type')?.includes('json')
          ? ((await res.json()) as Json)
          : {};
        // An unrouted path answers no_route from app.notFound; a routed one anything else.
        expect(String(body.message ?? ''), `${method} ${path}`).not.toMatch(/^no route/);
      }
    }
  });

  it('takes the changegate and ServiceNow bodies from the receivers’ zod schemas', () => {
    const schemas = (doc.components as Json).schemas as Record<string, Json>;
    const validate = ajv.compile(deref(schemas.ChangegateWebhook) as Json);
    expect(validate(fixture('jenkins/synthetic-deployment-requested.json'))).toBe(true);
    expect(validate({ type: 'deployment.requested', timestamp: 'yesterday', data: {} })).toBe(
      false,
    );
    const servicenow = ajv.compile(deref(schemas.ServiceNowMessage) as Json);
    expect(servicenow(fixture('servicenow/synthetic-change-updated.json'))).toBe(true);
    expect(servicenow({ type: 'change.updated', data: { sys_id: 'not-hex' } })).toBe(false);
  });
});

describe('every answer the receiver gives is described by the OpenAPI document', () => {
  it('202, 200 duplicate and 200 pong on a Standard-Webhooks route', async () => {
    const body = fixture('jenkins/synthetic-deployment-requested.json');
    const now = new Date();
    const first = await send('/hooks/jenkins', signedRequest(body, { at: now, id: 'msg-a' }));
    expect(first.status).toBe(202);
    await conforms('/hooks/jenkins', first);
    const again = await send('/hooks/jenkins', signedRequest(body, { at: now, id: 'msg-a' }));
    expect(again.status).toBe(200);
    expect(await conforms('/hooks/jenkins', again)).toMatchObject({ status: 'duplicate' });
    const ping = await send(
      '/hooks/jenkins',
      signedRequest({ type: 'ping' }, { at: now, id: 'p' }),
    );
    expect(await conforms('/hooks/jenkins', ping)).toEqual({ status: 'pong' });
  });

  it('401 for a bad signature, 202 for a verified body not understood, 400 for an overlong id, 404 for an unconfigured source', async () => {
    const now = new Date();
    const tampered = signedRequest(fixture('servicenow/synthetic-change-updated.json'), {
      at: now,
      tamper: true,
    });
    const unauthorized = await send('/hooks/servicenow', tampered);
    expect(unauthorized.status).toBe(401);
    await conforms('/hooks/servicenow', unauthorized);

    // Verified but not understood: accepted (published as webhook.received), never 400.
    const invalid = signedRequest({ type: 'change.updated', data: {} }, { at: now, id: 'bad' });
    const unread = await send('/hooks/servicenow', invalid);
    expect(unread.status).toBe(202);
    await conforms('/hooks/servicenow', unread);

    const longId = signedRequest({ type: 'ping' }, { at: now, id: `msg_${'x'.repeat(300)}` });
    const bad = await send('/hooks/servicenow', longId);
    expect(bad.status).toBe(400);
    expect(await conforms('/hooks/servicenow', bad)).toMatchObject({
      reason: 'invalid_header:webhook-id',
    });

    const unknown = await send(
      '/hooks/generic/nobody',
      signedRequest({ type: 'ping' }, { at: now }),
    );
    expect(unknown.status).toBe(404);
    await conforms('/hooks/generic/{source}', unknown);
  });

  it('413 before reading a body over the limit', async () => {
    const huge = signedRequest({ type: 'ping', data: 'x'.repeat(LIMIT) }, { at: new Date() });
    const res = await send('/hooks/generic/argo', huge);
    expect(res.status).toBe(413);
    await conforms('/hooks/generic/{source}', res);
  });

  it('503 with Retry-After when the bus does not acknowledge', async () => {
    busDown = true;
    try {
      const res = await send(
        '/hooks/github',
        githubRequest(
          'deployment_protection_rule',
          githubFixture('synthetic-deployment_protection_rule.requested'),
          {
            secret: GITHUB,
            deliveryId: 'down-1',
          },
        ),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      await conforms('/hooks/github', res);
    } finally {
      busDown = false;
    }
  });

  it('202 for GitHub, GitLab, an Azure DevOps check and service hook', async () => {
    const github = await send(
      '/hooks/github',
      githubRequest(
        'deployment_protection_rule',
        githubFixture('synthetic-deployment_protection_rule.requested'),
        {
          secret: GITHUB,
          deliveryId: 'gh-1',
        },
      ),
    );
    expect(github.status).toBe(202);
    await conforms('/hooks/github', github);
    const gitlab = await send(
      '/hooks/gitlab',
      gitlabRequest('Deployment Hook', gitlabDocPayload('deployment'), { token: GITLAB }),
    );
    expect(gitlab.status).toBe(202);
    await conforms('/hooks/gitlab', gitlab);
    const auth = { authorization: `Basic ${Buffer.from(AZURE).toString('base64')}` };
    const check = await send(
      '/hooks/azure-devops',
      checkRequest(fixture('azure-devops/synthetic-check-body.json'), auth),
    );
    expect(check.status).toBe(202);
    expect(await conforms('/hooks/azure-devops', check)).toHaveProperty('correlationId');
    const hook = await send(
      '/hooks/azure-devops',
      serviceHookRequest(fixture('azure-devops/build-complete.json'), auth),
    );
    expect(hook.status).toBe(202);
    await conforms('/hooks/azure-devops', hook);
  });

  it('429 with Retry-After when a source exceeds ingest.rateLimit', async () => {
    const ping = () => signedRequest({ type: 'ping' }, { at: new Date() });
    await limitedApp.request('/hooks/jenkins', {
      method: 'POST',
      headers: ping().headers,
      body: ping().body,
    });
    const res = await limitedApp.request('/hooks/jenkins', {
      method: 'POST',
      headers: ping().headers,
      body: ping().body,
    });
    expect(res.status).toBe(429);
    await conforms('/hooks/jenkins', res);
  });

  it('probes, metrics and the API documents', async () => {
    await conforms('/healthz', await app.request('/healthz'), 'get');
    await conforms('/readyz', await app.request('/readyz'), 'get');
    ready = false;
    const down = await app.request('/readyz');
    expect(down.status).toBe(503);
    await conforms('/readyz', down, 'get');
    ready = true;
    await conforms('/metrics', await app.request('/metrics'), 'get');
    const served = await app.request('/openapi.json');
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(doc)));
    const asyncapi = (await (await app.request('/asyncapi.json')).json()) as Json;
    expect(asyncapi.asyncapi).toBe('3.0.0');
  });
});
