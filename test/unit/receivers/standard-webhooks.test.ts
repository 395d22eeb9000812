import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../../src/errors.js';
import { sign, verifyStandardWebhook } from '../../../src/security/standard-webhooks.js';
import {
  NEW_SECRET,
  NOW,
  SECRET,
  VERIFY,
  signedRequest,
} from '../../fixtures/standard-webhook-request.js';

const PREFIX = '[changegate/receivers/standard-webhooks]';
const verify = (request = signedRequest({ a: 1 }), secrets = [SECRET], options = VERIFY) =>
  verifyStandardWebhook(request.headers, request.body, secrets, options);

describe('Standard Webhooks verifier', () => {
  it('reproduces the reference test vector of standard-webhooks (libraries/javascript)', () => {
    // webhook.test.ts "sign function works" in standard-webhooks/standard-webhooks.
    const headers = sign(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      new Date(1614265330 * 1000),
      '{"test": 2432232314}',
    );
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(headers['webhook-timestamp']).toBe('1614265330');
  });

  it('accepts the reference vector at its own time, with or without the whsec_ prefix', () => {
    const headers = new Headers({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    const body = new TextEncoder().encode('{"test": 2432232314}');
    const options = { now: new Date(1614265330 * 1000), toleranceSeconds: 300 };
    expect(verifyStandardWebhook(headers, body, [SECRET], options)).toBe(
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
    );
    expect(verifyStandardWebhook(headers, body, [SECRET.slice(6)], options)).toBe(
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
    );
  });

  it('returns the webhook-id of a valid delivery', () => {
    expect(verify(signedRequest({ a: 1 }, { id: 'msg_abc' }))).toBe('msg_abc');
  });

  it('rejects a tampered body', () => {
    expect(() => verify(signedRequest({ a: 1 }, { tamper: true }))).toThrow(
      `${PREFIX} no matching signature found`,
    );
  });

  it('rejects a delivery signed with another secret', () => {
    expect(() => verify(signedRequest({ a: 1 }, { secret: NEW_SECRET }))).toThrow(
      VerificationError,
    );
  });

  it('rejects a timestamp older than the tolerance and accepts one at the edge', () => {
    const old = new Date(NOW.getTime() - 301_000);
    expect(() => verify(signedRequest({ a: 1 }, { at: old }))).toThrow(
      `${PREFIX} message timestamp too old`,
    );
    const edge = new Date(NOW.getTime() - 300_000);
    expect(verify(signedRequest({ a: 1 }, { at: edge, id: 'edge' }))).toBe('edge');
  });

  it('rejects a timestamp too far in the future', () => {
    const future = new Date(NOW.getTime() + 301_000);
    expect(() => verify(signedRequest({ a: 1 }, { at: future }))).toThrow(
      `${PREFIX} message timestamp too new`,
    );
  });

  it('rejects a timestamp that is not unix seconds', () => {
    const request = signedRequest({ a: 1 }, { headers: { 'webhook-timestamp': 'hello' } });
    expect(() => verify(request)).toThrow(`${PREFIX} webhook-timestamp is not unix seconds`);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)(
    'rejects a delivery without %s',
    (name) => {
      expect(() => verify(signedRequest({ a: 1 }, { omit: [name] }))).toThrow(
        `${PREFIX} missing webhook-id, webhook-timestamp or webhook-signature`,
      );
    },
  );

  it('accepts a header with several entries when any v1 entry matches', () => {
    const valid = signedRequest({ a: 1 }).headers.get('webhook-signature') ?? '';
    const request = signedRequest(
      { a: 1 },
      {
        headers: {
          'webhook-signature': [
            'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
            'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
            valid,
            'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
          ].join(' '),
        },
      },
    );
    expect(verify(request)).toBe('msg_2ex6rKfjCHtjKQNTmJgE8Qf3Ctn');
  });

  it('ignores v1a (ed25519) entries, even one carrying the right HMAC', () => {
    const valid = signedRequest({ a: 1 }).headers.get('webhook-signature') ?? '';
    const request = signedRequest(
      { a: 1 },
      { headers: { 'webhook-signature': valid.replace('v1,', 'v1a,') } },
    );
    expect(() => verify(request)).toThrow(`${PREFIX} no matching signature found`);
  });

  it('rejects a partial signature and an empty v1 entry', () => {
    const valid = signedRequest({ a: 1 }).headers.get('webhook-signature') ?? '';
    for (const signature of [valid.slice(0, 8), 'v1,']) {
      const request = signedRequest({ a: 1 }, { headers: { 'webhook-signature': signature } });
      expect(() => verify(request)).toThrow(VerificationError);
    }
  });

  it('accepts both the old and the new secret during a rotation', () => {
    const secrets = [SECRET, NEW_SECRET];
    expect(verify(signedRequest({ a: 1 }, { secret: SECRET }), secrets)).toBeTruthy();
    expect(verify(signedRequest({ a: 1 }, { secret: NEW_SECRET }), secrets)).toBeTruthy();
    // A sender signing with both during its own switch is accepted by a receiver knowing one.
    const both = signedRequest({ a: 1 }, { secret: NEW_SECRET, alsoSignWith: [SECRET] });
    expect(verify(both, [SECRET])).toBeTruthy();
  });

  it('rejects everything when no secret is configured', () => {
    expect(() => verify(signedRequest({ a: 1 }), [])).toThrow(VerificationError);
  });

  it('throws nothing but VerificationError for arbitrary headers and bytes', () => {
    const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.option(headerValue),
        fc.option(fc.oneof(headerValue, fc.integer({ min: -1e12, max: 1e13 }).map(String))),
        fc.option(headerValue),
        (body, id, timestamp, signature) => {
          const headers = new Headers();
          if (id !== null) headers.set('webhook-id', id);
          if (timestamp !== null) headers.set('webhook-timestamp', timestamp);
          if (signature !== null) headers.set('webhook-signature', signature);
          try {
            verifyStandardWebhook(headers, body, [SECRET], VERIFY);
            return false; // a random signature must never verify
          } catch (err) {
            return err instanceof VerificationError;
          }
        },
      ),
    );
  });
});
