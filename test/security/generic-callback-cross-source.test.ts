import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Resolve } from '../../src/ci/address-guard.js';
import { CallbackRefusedError, createCallbackClients } from '../../src/ci/index.js';
import { CiSchema } from '../../src/config/ci.js';
import { createSealer } from '../../src/security/seal.js';
import { verifyStandardWebhook } from '../../src/security/standard-webhooks.js';

// Issue 15 hole 6: one global generic callback secret signed releases to any allow-listed URL,
// and the signed body did not say which gate it released: a receiver of source A could be sent
// (or could replay to another) a release meant for source B. Each source now has its own secret
// and allow-list, and the gate id, source and CR number are inside the signed body.

const ARGO = `whsec_${randomBytes(32).toString('base64')}`;
const FLUX = `whsec_${randomBytes(32).toString('base64')}`;
const resolve: Resolve = async () => [{ address: '93.184.215.14', family: 4 }];

function clients() {
  const sent: { url: string; headers: Headers; body: string }[] = [];
  const ci = createCallbackClients(
    CiSchema.parse({
      allowList: ['*.acme.example'],
      generic: {
        sources: {
          argo: { secret: ARGO, allowList: ['https://argo.acme.example/gates/'] },
          flux: { secret: FLUX, allowList: ['https://flux.acme.example/gates/'] },
        },
      },
    }),
    {
      sealer: createSealer(randomBytes(32)),
      resolve,
      fetchImpl: async (input, init) => {
        sent.push({
          url: String(input),
          headers: new Headers(init?.headers),
          body: String(init?.body),
        });
        return new Response('{}', { status: 200 });
      },
    },
  );
  return { ci, sent };
}

const decision = {
  outcome: 'approve' as const,
  comment: 'changegate: CHG0010001 approved',
  changeNumber: 'CHG0010001',
  gateId: 'generic/argo/acme/web/d-1/production',
};

describe('a generic callback', () => {
  it('for source argo is refused at flux’s URL, though the global allow-list admits it', async () => {
    const { ci, sent } = clients();
    const crossed = ci.decide(
      { kind: 'generic', url: 'https://flux.acme.example/gates/7', params: { source: 'argo' } },
      decision,
    );
    await expect(crossed).rejects.toBeInstanceOf(CallbackRefusedError);
    await expect(crossed).rejects.toThrow(/matches no ci.allowList entry/);
    expect(sent).toEqual([]);
  });

  it('is signed with its own source’s secret, and names gate, source and CR in the signed body', async () => {
    const { ci, sent } = clients();
    await ci.decide(
      { kind: 'generic', url: 'https://argo.acme.example/gates/1', params: { source: 'argo' } },
      decision,
    );
    expect(sent).toHaveLength(1);
    const { headers, body } = sent[0]!;
    const bytes = new TextEncoder().encode(body);
    const opts = { now: new Date(), toleranceSeconds: 300 };
    expect(() => verifyStandardWebhook(headers, bytes, [ARGO], opts)).not.toThrow();
    expect(() => verifyStandardWebhook(headers, bytes, [FLUX], opts)).toThrow();
    expect(JSON.parse(body)).toMatchObject({
      type: 'gate.released',
      data: { gateId: decision.gateId, source: 'argo', changeNumber: 'CHG0010001' },
    });
  });

  it('for a source with no secret of its own and no global secret is refused', async () => {
    const { ci, sent } = clients();
    await expect(
      ci.decide(
        { kind: 'generic', url: 'https://other.acme.example/gates/1', params: { source: 'other' } },
        decision,
      ),
    ).rejects.toThrow(/no ci.generic secret for source other/);
    expect(sent).toEqual([]);
  });
});
