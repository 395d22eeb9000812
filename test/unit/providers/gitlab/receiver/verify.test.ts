import { describe, expect, it } from 'vitest';
import { VerificationError } from '../../../../../src/errors.js';
import { gitlabDeliveryId } from '../../../../../src/providers/gitlab/receiver/delivery-id.js';
import { gitlabReceiver } from '../../../../../src/providers/gitlab/receiver/index.js';
import {
  verifyGitlab,
  type GitlabSecrets,
} from '../../../../../src/providers/gitlab/receiver/verify.js';
import { gitlabRequest } from '../../../../fixtures/gitlab-request.js';

const TOKEN = 'glpat-hook-token-current';
const OLD_TOKEN = 'glpat-hook-token-previous';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_WHSEC = 'whsec_c2lnbmluZy10b2tlbi1wcmV2aW91cy0zMmJ5dGVzIQ==';
const NOW = new Date('2026-03-04T09:00:00Z');
const options = { now: NOW, toleranceSeconds: 300 };
const PAYLOAD = { object_kind: 'push', project: { path_with_namespace: 'acme/payments' } };

function check(request: ReturnType<typeof gitlabRequest>, secrets: GitlabSecrets) {
  return verifyGitlab(request.headers, request.body, secrets, options);
}

describe('verifyGitlab with X-Gitlab-Token', () => {
  it('accepts the configured token and returns the Idempotency-Key', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: TOKEN, idempotencyKey: 'idem-1' });
    expect(check(request, { tokens: [TOKEN] })).toEqual({ deliveryId: 'idem-1' });
  });

  it('accepts an old token during rotation', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: OLD_TOKEN });
    expect(check(request, { tokens: [TOKEN, OLD_TOKEN] }).deliveryId).toBeTruthy();
  });

  it('rejects a token mismatch', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: 'guess' });
    expect(() => check(request, { tokens: [TOKEN] })).toThrow(
      '[changegate/receivers/gitlab] token mismatch',
    );
  });

  it('rejects a missing X-Gitlab-Token header', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD);
    expect(() => check(request, { tokens: [TOKEN] })).toThrow(
      '[changegate/receivers/gitlab] missing X-Gitlab-Token',
    );
  });
});

describe('verifyGitlab with a signing token', () => {
  it('accepts a valid signature', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { signingToken: WHSEC, at: NOW });
    expect(check(request, { signingTokens: [WHSEC] })).toEqual({
      deliveryId: '908a6d9e-45fd-46c8-97e6-c4f350f219dd',
    });
  });

  it('accepts an old signing token during rotation', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { signingToken: OLD_WHSEC, at: NOW });
    expect(check(request, { signingTokens: [WHSEC, OLD_WHSEC] }).deliveryId).toBeTruthy();
  });

  it('rejects a timestamp outside the replay window', () => {
    const at = new Date(NOW.getTime() - 301_000);
    const request = gitlabRequest('Push Hook', PAYLOAD, { signingToken: WHSEC, at });
    expect(() => check(request, { signingTokens: [WHSEC] })).toThrow(
      '[changegate/receivers/gitlab] signing token: message timestamp too old',
    );
  });

  it('rejects a tampered body', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, {
      signingToken: WHSEC,
      at: NOW,
      tamper: true,
    });
    expect(() => check(request, { signingTokens: [WHSEC] })).toThrow(
      '[changegate/receivers/gitlab] signing token: no matching signature found',
    );
  });

  it('rejects a bad signature even when a valid X-Gitlab-Token rides along', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, {
      signingToken: WHSEC,
      token: TOKEN,
      at: NOW,
      tamper: true,
    });
    expect(() => check(request, { tokens: [TOKEN], signingTokens: [WHSEC] })).toThrow(
      VerificationError,
    );
  });

  it('when only signing tokens are configured, rejects a plain-token delivery', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: TOKEN });
    expect(() => check(request, { signingTokens: [WHSEC] })).toThrow(
      '[changegate/receivers/gitlab] unsigned delivery but only signing tokens are configured',
    );
  });

  it('falls back to X-Gitlab-Token for unsigned deliveries when both are configured', () => {
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: TOKEN });
    expect(check(request, { tokens: [TOKEN], signingTokens: [WHSEC] }).deliveryId).toBeTruthy();
  });
});

describe('gitlabDeliveryId', () => {
  const body = new TextEncoder().encode('{"a":1}');
  it('prefers Idempotency-Key, then webhook-id, X-Gitlab-Event-UUID, X-Gitlab-Webhook-UUID', () => {
    const headers = new Headers({
      'idempotency-key': 'a',
      'webhook-id': 'b',
      'x-gitlab-event-uuid': 'c',
      'x-gitlab-webhook-uuid': 'd',
    });
    const ids: string[] = [];
    for (const name of [
      'idempotency-key',
      'webhook-id',
      'x-gitlab-event-uuid',
      'x-gitlab-webhook-uuid',
    ]) {
      ids.push(gitlabDeliveryId(headers, body));
      headers.delete(name);
    }
    expect(ids).toEqual(['a', 'b', 'c', 'd']);
  });

  it('falls back to a sha256 of the body so identical retries dedupe', () => {
    const a = gitlabDeliveryId(new Headers(), body);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(gitlabDeliveryId(new Headers(), new TextEncoder().encode('{"a":1}'))).toBe(a);
    expect(gitlabDeliveryId(new Headers(), new TextEncoder().encode('{"a":2}'))).not.toBe(a);
  });
});

describe('gitlabReceiver', () => {
  it('takes its secrets from sources.gitlab and verifies through verifyGitlab', () => {
    const secrets = gitlabReceiver.secrets({ generic: {}, gitlab: { tokens: [TOKEN] } }, {});
    expect(secrets).toEqual({ tokens: [TOKEN], signingTokens: undefined });
    expect(gitlabReceiver.secrets({ generic: {} }, {})).toBeUndefined();
    const request = gitlabRequest('Push Hook', PAYLOAD, { token: TOKEN, idempotencyKey: 'k' });
    expect(gitlabReceiver.verify(request, secrets!, options)).toEqual({ deliveryId: 'k' });
  });
});
