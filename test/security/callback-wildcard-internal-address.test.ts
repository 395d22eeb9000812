import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CallbackRefusedError, createCallbackClients } from '../../src/ci/index.js';
import type { Resolve } from '../../src/ci/address-guard.js';
import { CiSchema } from '../../src/config/ci.js';
import { createSealer } from '../../src/security/seal.js';

// Issue 15 hole 6: the allow-list judged names only, so `*.ci.acme.example` admitted a name whose
// record points at 127.0.0.1 or the cloud metadata address 169.254.169.254. Every resolved
// address is now checked, and private ones pass only when listed in ci.allowAddresses.

const DNS: Record<string, string[]> = {
  'meta.ci.acme.example': ['169.254.169.254'],
  'local.ci.acme.example': ['127.0.0.1'],
  'mixed.ci.acme.example': ['93.184.215.14', '10.0.0.8'],
  'mapped.ci.acme.example': ['::ffff:127.0.0.1'],
  'ula.ci.acme.example': ['fd12:3456::1'],
  'internal.ci.acme.example': ['10.20.1.5'],
  'public.ci.acme.example': ['93.184.215.14'],
};
const resolve: Resolve = async (host) =>
  (DNS[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

function clients(extra: Record<string, unknown> = {}) {
  const calls: string[] = [];
  const ci = createCallbackClients(
    CiSchema.parse({
      allowList: ['*.ci.acme.example'],
      generic: { secret: `whsec_${randomBytes(32).toString('base64')}` },
      ...extra,
    }),
    {
      sealer: createSealer(randomBytes(32)),
      resolve,
      fetchImpl: async (input) => {
        calls.push(String(input));
        return new Response('{}', { status: 200 });
      },
    },
  );
  return { ci, calls };
}

const release = {
  outcome: 'approve' as const,
  comment: 'CHG0010001 approved',
  changeNumber: 'CHG0010001',
};
const at = (host: string) => ({
  kind: 'generic' as const,
  url: `https://${host}/gate/1`,
  params: {},
});

describe('an allowed wildcard name that resolves to an internal address', () => {
  for (const host of [
    'meta.ci.acme.example',
    'local.ci.acme.example',
    'mixed.ci.acme.example',
    'mapped.ci.acme.example',
    'ula.ci.acme.example',
    'internal.ci.acme.example',
  ]) {
    it(`is refused before any request: ${host} → ${DNS[host]!.join(', ')}`, async () => {
      const { ci, calls } = clients();
      const refused = ci.decide(at(host), release);
      await expect(refused).rejects.toBeInstanceOf(CallbackRefusedError);
      await expect(refused).rejects.toThrow(/resolves to .* \(/);
      expect(calls).toEqual([]);
    });
  }

  it('is called when the address is listed in ci.allowAddresses', async () => {
    const { ci, calls } = clients({ allowAddresses: ['10.20.0.0/16'] });
    await expect(ci.decide(at('internal.ci.acme.example'), release)).resolves.toMatchObject({
      status: 'done',
    });
    expect(calls).toEqual(['https://internal.ci.acme.example/gate/1']);
  });

  it('is called when the name resolves to public addresses only', async () => {
    const { ci, calls } = clients();
    await ci.decide(at('public.ci.acme.example'), release);
    expect(calls).toHaveLength(1);
  });

  it('refuses loopback unless ci.allowLoopback says so', async () => {
    const { ci: open } = clients({ allowLoopback: true });
    await expect(open.decide(at('local.ci.acme.example'), release)).resolves.toMatchObject({
      status: 'done',
    });
  });
});
