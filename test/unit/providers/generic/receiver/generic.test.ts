import { z } from 'zod';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourcesConfig } from '../../../../../src/config/schema.js';
import { ChangegateWebhookSchema } from '../../../../../src/receivers/changegate-format.js';
import { genericReceiver } from '../../../../../src/providers/generic/receiver/index.js';
import {
  NEW_SECRET,
  SECRET,
  VERIFY,
  fixture,
  mutatedDocument,
  onlyEvent,
  assertVerifyFailsCleanly,
  onlyKnownErrors,
  setAt,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const sources = {
  generic: { argo: { secrets: [SECRET] }, '*': { secrets: [NEW_SECRET] } },
} as unknown as SourcesConfig;
const ctx = testContext();

async function deliver(payload: unknown, source = 'argo') {
  const raw = signedRequest(payload, { id: 'msg_generic_1', params: { source } });
  const secrets = genericReceiver.secrets(sources, raw.params);
  if (!secrets) throw new Error('not configured');
  const { deliveryId } = genericReceiver.verify(raw, secrets, VERIFY);
  return genericReceiver.normalize(verifiedRequest(raw, deliveryId), ctx);
}

describe('generic receiver', () => {
  it('takes the secrets of the named source, else of *', () => {
    expect(genericReceiver.secrets(sources, { source: 'argo' })).toEqual({ secrets: [SECRET] });
    expect(genericReceiver.secrets(sources, { source: 'spinnaker' })).toEqual({
      secrets: [NEW_SECRET],
    });
  });

  it('is not configured without an entry and without *', () => {
    const only = { generic: { argo: { secrets: [SECRET] } } } as unknown as SourcesConfig;
    expect(genericReceiver.secrets(only, { source: 'spinnaker' })).toBeUndefined();
    expect(genericReceiver.secrets(only, {})).toBeUndefined();
  });

  it.each(['../etc', 'a/b', 'a.b', '', '-x', 'x'.repeat(65), 'ä', '*'])(
    'treats the unsafe source name %j as not configured, even with *',
    (source) => {
      expect(genericReceiver.secrets(sources, { source })).toBeUndefined();
    },
  );

  it('never resolves a source name through the prototype', () => {
    const only = { generic: {} } as unknown as SourcesConfig;
    for (const source of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(genericReceiver.secrets(only, { source })).toBeUndefined();
    }
  });

  it('verifies with the source secret and rejects the secret of another source', () => {
    const raw = signedRequest({ type: 'ping' }, { secret: NEW_SECRET, params: { source: 'argo' } });
    expect(() => genericReceiver.verify(raw, { secrets: [SECRET] }, VERIFY)).toThrow(
      '[changegate/receivers/standard-webhooks] no matching signature found',
    );
  });

  it('scopes keys and the correlation id by source name', async () => {
    const event = onlyEvent(await deliver(fixture('generic/synthetic-deployment-requested.json')));
    const k = 'generic/argo/platform/ingress/ingress-2026.11.25-1-prod-eu';
    expect(event.type).toBe('dev.changegate.deployment.requested');
    expect(event.partitionkey).toBe(k);
    expect(event.data).toMatchObject({
      provider: 'generic',
      source: 'argo',
      project: 'platform/ingress',
      deliveryId: 'msg_generic_1',
      correlationId: k,
      changeNumber: 'CHG0010002',
      callback: {
        kind: 'generic',
        url: 'https://argo.acme.example/api/changegate/decisions/argo-wf-7d9k2',
        params: { source: 'argo' },
      },
    });
  });

  it('keeps the same key for the outcome of the same deployment', async () => {
    const requested = onlyEvent(
      await deliver(fixture('generic/synthetic-deployment-requested.json')),
    );
    const succeeded = onlyEvent(
      await deliver(fixture('generic/synthetic-deployment-succeeded.json')),
    );
    expect(succeeded.type).toBe('dev.changegate.deployment.succeeded');
    expect(succeeded.partitionkey).toBe(requested.partitionkey);
  });

  it('refuses a Jenkins-kind callback', async () => {
    const body = setAt(
      fixture('generic/synthetic-deployment-requested.json'),
      ['data', 'callback', 'kind'],
      'jenkins',
    );
    await expect(deliver(body)).rejects.toMatchObject({
      reason: 'invalid_field:data.callback.kind',
    });
  });

  it('refuses a test.reported without deployment or run id', async () => {
    const body = {
      type: 'test.reported',
      timestamp: '2026-11-25T09:00:00Z',
      data: { project: 'p', reports: [] },
    };
    await expect(deliver(body)).rejects.toMatchObject({
      reason: 'missing_field:data.deploymentId',
    });
  });

  it('refuses a report with neither url nor content', async () => {
    const body = {
      type: 'test.reported',
      timestamp: '2026-11-25T09:00:00Z',
      data: { project: 'p', deploymentId: 'd', reports: [{ format: 'junit', name: 'x.xml' }] },
    };
    await expect(deliver(body)).rejects.toMatchObject({ name: 'PayloadError' });
  });

  it('refuses to normalize without a valid :source', async () => {
    const raw = signedRequest({ type: 'ping' });
    await expect(genericReceiver.normalize(verifiedRequest(raw, 'd'), ctx)).rejects.toMatchObject({
      reason: 'invalid_source',
    });
  });

  it('publishes the body format as a JSON Schema with every field described', () => {
    const schema = JSON.stringify(z.toJSONSchema(ChangegateWebhookSchema, { io: 'input' }));
    for (const field of ['deploymentId', 'callback', 'inputId', 'reports', 'changeNumber']) {
      expect(schema).toContain(`"${field}"`);
    }
    expect(schema).toContain('Stable across re-runs');
  });

  it('normalize of any mutation of a valid body yields valid events or a PayloadError', async () => {
    const docs = [
      'generic/synthetic-deployment-requested.json',
      'generic/synthetic-deployment-succeeded.json',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...docs).chain((f) => mutatedDocument(fixture(f))),
        (doc) =>
          onlyKnownErrors(() =>
            genericReceiver.normalize(
              verifiedRequest(
                signedRequest(JSON.stringify(doc ?? null), { params: { source: 'argo' } }),
                'd',
              ),
              ctx,
            ),
          ),
      ),
      { numRuns: 200 },
    );
  });

  it('verify throws only VerificationError for arbitrary bytes and headers', () =>
    assertVerifyFailsCleanly(({ headers, body }) =>
      genericReceiver.verify(
        { headers, body, params: { source: 'x' } },
        { secrets: [SECRET] },
        VERIFY,
      ),
    ));

  it('secrets() never throws for arbitrary source names', () => {
    fc.assert(
      fc.property(fc.string(), (source) => {
        const s = genericReceiver.secrets(sources, { source });
        return s === undefined || Array.isArray(s.secrets);
      }),
    );
  });
});
