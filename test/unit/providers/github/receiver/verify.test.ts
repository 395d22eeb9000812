import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../../../../src/errors.js';
import { githubReceiver } from '../../../../../src/providers/github/receiver/index.js';
import { signGithub } from '../../../../../src/providers/github/receiver/sign.js';
import { verifyGithub } from '../../../../../src/providers/github/receiver/verify.js';
import { githubRequest } from '../../../../fixtures/github-request.js';

const SECRET = 'whsec-github-current';
const OLD = 'whsec-github-previous';
const PAYLOAD = { zen: 'Design for failure.', hook_id: 1 };

function check(request: ReturnType<typeof githubRequest>, secrets = [SECRET]) {
  return verifyGithub(request.headers, request.body, secrets);
}

describe('verifyGithub', () => {
  it('accepts the documented test vector', () => {
    const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(signGithub("It's a Secret to Everybody", 'Hello, World!')).toBe(vector);
    const headers = new Headers({ 'x-hub-signature-256': vector, 'x-github-delivery': 'd-1' });
    const body = new TextEncoder().encode('Hello, World!');
    expect(verifyGithub(headers, body, ["It's a Secret to Everybody"])).toEqual({
      deliveryId: 'd-1',
    });
  });

  it('returns the X-GitHub-Delivery id of a valid delivery', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET, deliveryId: 'abc-123' });
    expect(check(request)).toEqual({ deliveryId: 'abc-123' });
  });

  it('rejects a tampered body', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET, tamper: true });
    expect(() => check(request)).toThrow('[changegate/receivers/github] signature mismatch');
  });

  it('rejects a signature made with another secret', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: 'someone-else' });
    expect(() => check(request)).toThrow(VerificationError);
  });

  it('accepts an old secret during rotation', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: OLD });
    expect(check(request, [SECRET, OLD])).toEqual({ deliveryId: expect.any(String) });
  });

  it('rejects a missing signature header', () => {
    const request = githubRequest('ping', PAYLOAD, {
      secret: SECRET,
      omit: ['x-hub-signature-256'],
    });
    expect(() => check(request)).toThrow(
      '[changegate/receivers/github] missing X-Hub-Signature-256',
    );
  });

  it('ignores a valid legacy sha1 X-Hub-Signature when sha256 is absent', () => {
    const request = githubRequest('ping', PAYLOAD, {
      secret: SECRET,
      omit: ['x-hub-signature-256'],
    });
    request.headers.set('x-hub-signature', 'sha1=0000000000000000000000000000000000000000');
    expect(() => check(request)).toThrow(VerificationError);
  });

  it('rejects a malformed signature value', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET });
    request.headers.set('x-hub-signature-256', 'sha256=zz');
    expect(() => check(request)).toThrow('[changegate/receivers/github] malformed signature');
  });

  it('accepts an upper-case hex signature', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET });
    const value = request.headers.get('x-hub-signature-256')!;
    request.headers.set('x-hub-signature-256', `sha256=${value.slice(7).toUpperCase()}`);
    expect(check(request)).toEqual({ deliveryId: expect.any(String) });
  });

  it('rejects a signed delivery without X-GitHub-Delivery, since it could not be deduplicated', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET, deliveryId: null });
    expect(() => check(request)).toThrow('[changegate/receivers/github] missing X-GitHub-Delivery');
  });

  it('rejects everything when no secret is configured', () => {
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET });
    expect(() => check(request, [])).toThrow(VerificationError);
  });

  it('is wired into githubReceiver with secrets from sources.github', () => {
    expect(githubReceiver.name).toBe('github');
    expect(githubReceiver.secrets({ generic: {}, github: { secrets: [SECRET] } }, {})).toEqual([
      SECRET,
    ]);
    expect(githubReceiver.secrets({ generic: {} }, {})).toBeUndefined();
    const request = githubRequest('ping', PAYLOAD, { secret: SECRET, deliveryId: 'x' });
    const options = { now: new Date(), toleranceSeconds: 300 };
    expect(githubReceiver.verify(request, [SECRET], options)).toEqual({ deliveryId: 'x' });
  });
});
