import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../../../src/events/build.js';
import { sign, verifyStandardWebhook } from '../../../src/security/standard-webhooks.js';
import {
  ServiceNowMessageSchema,
  servicenowReceiver,
} from '../../../src/providers/servicenow/receiver/index.js';
import { outboundBody } from '../../../src/sandbox/servicenow/business-rules.js';
import { testContext } from '../../fixtures/standard-webhook-request.js';

const kit = join(import.meta.dirname, '../../../deploy/servicenow');
const read = (file: string) => readFileSync(join(kit, file), 'utf8');

/** The Standard Webhooks reference vector, also documented in deploy/servicenow/sign.js. */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: '1614265330',
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

/**
 * `GlideCertificateEncryption.generateMac(key, algorithm, data)` as documented: the key is
 * base64-encoded, the MAC comes back base64-encoded. A key that is not base64 is refused.
 */
class GlideCertificateEncryption {
  generateMac(key: string, algorithm: string, data: string): string {
    if (algorithm !== 'HmacSHA256') throw new Error(`unsupported algorithm ${algorithm}`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new Error('key is not base64');
    return createHmac('sha256', Buffer.from(key, 'base64')).update(data, 'utf8').digest('base64');
  }
}

interface Sent {
  endpoint?: string;
  method?: string;
  headers: Record<string, string>;
  body?: string;
  timeout?: number;
  async?: boolean;
}

/** A ServiceNow-like global scope: gs, GlideDateTime, sn_ws.RESTMessageV2, the MAC API. */
function instance(options: { properties: Record<string, string>; now: Date; guid: string }) {
  const sent: Sent[] = [];
  const warnings: string[] = [];
  class GlideDateTime {
    getValue() {
      return options.now.toISOString().slice(0, 19).replace('T', ' ');
    }
    getNumericValue() {
      return options.now.getTime();
    }
  }
  class RESTMessageV2 {
    readonly request: Sent = { headers: {} };
    constructor() {
      sent.push(this.request);
    }
    setEndpoint(url: string) {
      this.request.endpoint = url;
    }
    setHttpMethod(method: string) {
      this.request.method = method;
    }
    setRequestHeader(name: string, value: string) {
      this.request.headers[name] = value;
    }
    setRequestBody(body: string) {
      this.request.body = body;
    }
    setHttpTimeout(ms: number) {
      this.request.timeout = ms;
    }
    executeAsync() {
      this.request.async = true;
    }
  }
  const context: Record<string, unknown> = {
    gs: {
      getProperty: (name: string, fallback?: string) => options.properties[name] ?? fallback,
      generateGUID: () => options.guid,
      warn: (message: string) => warnings.push(message),
    },
    GlideDateTime,
    GlideCertificateEncryption,
    sn_ws: { RESTMessageV2 },
  };
  runInNewContext(read('sign.js'), context);
  return { context, sent, warnings };
}

/** A change_request GlideRecord: getValue() gives strings, null for an empty field. */
function glideRecord(table: string, fields: Record<string, string>) {
  return {
    getTableName: () => table,
    getUniqueValue: () => fields.sys_id,
    getValue: (name: string) => (fields[name] ? fields[name] : null),
  };
}

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const NOW = new Date('2026-11-25T09:00:00Z');
const CHANGE = {
  sys_id: 'c83c5e5347c12200e0ef563dbb9a7190',
  number: 'CHG0010001',
  state: '-1',
  approval: 'approved',
  correlation_id: 'github/acme/api/run-1-production',
  start_date: '2026-11-25 09:00:00',
  end_date: '2026-11-25 11:00:00',
  sys_updated_on: '2026-11-25 08:59:58',
  sys_mod_count: '4',
  risk: '3',
  u_cab_ok: 'true',
  short_description: 'Deploy api 1a2b3c4 to production — “quoted”',
};

describe('ServiceNow install kit: signing', () => {
  it('signs the Standard Webhooks reference vector exactly as changegate does', () => {
    const { context } = instance({ properties: {}, now: NOW, guid: 'x' });
    const outbound = context.ChangegateOutbound as {
      signature(s: string, id: string, ts: string, body: string, mac: unknown): string;
    };
    const signature = outbound.signature(
      VECTOR.secret,
      VECTOR.id,
      VECTOR.timestamp,
      VECTOR.body,
      new GlideCertificateEncryption(),
    );
    expect(signature).toBe(VECTOR.signature);
    const ours = sign(
      VECTOR.secret,
      VECTOR.id,
      new Date(Number(VECTOR.timestamp) * 1000),
      VECTOR.body,
    );
    expect(ours['webhook-signature']).toBe(VECTOR.signature);
    const headers = new Headers({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': VECTOR.timestamp,
      'webhook-signature': signature,
    });
    expect(
      verifyStandardWebhook(headers, new TextEncoder().encode(VECTOR.body), [VECTOR.secret], {
        now: new Date(Number(VECTOR.timestamp) * 1000),
        toleranceSeconds: 300,
      }),
    ).toBe(VECTOR.id);
  });

  it('is ES5 that Rhino runs: no arrow functions, let/const, classes or template strings', () => {
    for (const file of [
      'sign.js',
      'business-rules/change-request.js',
      'business-rules/incident.js',
    ]) {
      const scanner = ts.createScanner(
        ts.ScriptTarget.ES5,
        true,
        ts.LanguageVariant.Standard,
        read(file),
      );
      const forbidden = new Set([
        ts.SyntaxKind.EqualsGreaterThanToken,
        ts.SyntaxKind.LetKeyword,
        ts.SyntaxKind.ConstKeyword,
        ts.SyntaxKind.ClassKeyword,
        ts.SyntaxKind.NoSubstitutionTemplateLiteral,
        ts.SyntaxKind.TemplateHead,
        ts.SyntaxKind.DotDotDotToken,
      ]);
      for (
        let kind = scanner.scan();
        kind !== ts.SyntaxKind.EndOfFileToken;
        kind = scanner.scan()
      ) {
        expect(forbidden.has(kind), `${file}: ${scanner.getTokenText()}`).toBe(false);
      }
    }
  });
});

describe('ServiceNow install kit: the business rule', () => {
  const properties = {
    'changegate.url': 'https://changegate.example.com/hooks/servicenow',
    'changegate.secret': SECRET,
    'changegate.fields.change_request': 'risk, u_cab_ok,short_description',
  };

  function fire(table: string, record: Record<string, string>, props = properties) {
    const env = instance({ properties: props, now: NOW, guid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' });
    const script = read(
      `business-rules/${table === 'incident' ? 'incident' : 'change-request'}.js`,
    );
    runInNewContext(
      script,
      Object.assign(env.context, { current: glideRecord(table, record), previous: null }),
    );
    return env;
  }

  it('POSTs a signed change.updated that changegate verifies and normalizes', async () => {
    const { sent } = fire('change_request', CHANGE);
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(request).toMatchObject({
      endpoint: properties['changegate.url'],
      method: 'post',
      timeout: 10000,
      async: true,
    });
    const raw = {
      headers: new Headers(request.headers),
      body: new TextEncoder().encode(request.body!),
      params: {},
    };
    const { deliveryId } = servicenowReceiver.verify(
      raw,
      { secrets: [SECRET] },
      {
        now: NOW,
        toleranceSeconds: 300,
      },
    );
    expect(deliveryId).toBe('a1b2c3d4e5f60718293a4b5c6d7e8f90');
    const message = ServiceNowMessageSchema.parse(JSON.parse(request.body!));
    expect(message).toMatchObject({ type: 'change.updated', timestamp: '2026-11-25T09:00:00Z' });

    const normalized = await servicenowReceiver.normalize(
      { ...raw, deliveryId, json: JSON.parse(request.body!) },
      testContext(),
    );
    expect(normalized.kind).toBe('events');
    if (normalized.kind !== 'events') return;
    const event = buildEvent(normalized.events[0]!, { id: deliveryId, source: '/t', time: NOW });
    expect(event.type).toBe('dev.changegate.change.updated');
    expect(event.data).toMatchObject({
      sysId: CHANGE.sys_id,
      number: 'CHG0010001',
      state: '-1',
      approval: 'approved',
      correlationId: CHANGE.correlation_id,
      startDate: CHANGE.start_date,
      endDate: CHANGE.end_date,
      updatedAt: CHANGE.sys_updated_on,
      // The gate orders updates of one second by sys_mod_count (src/workers/gate/index.ts).
      fields: { sys_mod_count: '4', risk: '3', u_cab_ok: 'true' },
    });
  });

  it('reads, to the receiver, exactly like the sandbox instance’s message for the same record', () => {
    const { sent } = fire('change_request', CHANGE);
    const ours = ServiceNowMessageSchema.parse(JSON.parse(sent[0]!.body!));
    const sandbox = ServiceNowMessageSchema.parse(
      JSON.parse(
        outboundBody(
          'change_request',
          CHANGE,
          NOW,
          properties['changegate.fields.change_request'].split(','),
        ),
      ),
    );
    // GlideDateTime has no milliseconds; the receiver reads both alike.
    expect({ ...ours, timestamp: Date.parse(ours.timestamp!) }).toEqual({
      ...sandbox,
      timestamp: Date.parse(sandbox.timestamp!),
    });
  });

  it('sends empty fields as null, which the receiver reads as absent', async () => {
    const { sent } = fire('change_request', { ...CHANGE, approval: '', start_date: '' });
    const body = JSON.parse(sent[0]!.body!) as { data: Record<string, unknown> };
    expect(body.data.approval).toBeNull();
    expect(ServiceNowMessageSchema.parse(body).data).not.toHaveProperty(
      'approval',
      expect.anything(),
    );
  });

  it('POSTs incident.updated for an incident, with the incident default fields', () => {
    const { sent } = fire('incident', {
      sys_id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      number: 'INC0010002',
      state: '6',
      correlation_id: 'changegate/incident/abc',
      priority: '2',
      sys_updated_on: '2026-11-25 09:00:00',
      sys_mod_count: '2',
    });
    const body = JSON.parse(sent[0]!.body!) as { type: string; data: Record<string, unknown> };
    expect(body.type).toBe('incident.updated');
    expect(body.data).toMatchObject({ table: 'incident', state: '6', priority: '2' });
    expect(ServiceNowMessageSchema.safeParse(body).success).toBe(true);
  });

  it('sends nothing and warns when the properties are not set', () => {
    const { sent, warnings } = fire('change_request', CHANGE, {} as typeof properties);
    expect(sent).toHaveLength(0);
    expect(warnings[0]).toMatch(/changegate\.url and changegate\.secret/);
  });
});
