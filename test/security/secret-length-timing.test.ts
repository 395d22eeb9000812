import type * as Crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Issue 15 hole 6: GitLab-token and Basic compares returned early on a length mismatch, so the
// time taken told whether a guess had the secret's length. The compare now works on digests of
// one size whatever the inputs: what timingSafeEqual sees must never depend on either length.

const compared: number[][] = [];
vi.mock('node:crypto', async (original) => {
  const crypto = await original<typeof Crypto>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { matchesAny, safeEqual } = await import('../../src/security/timing-safe.js');

beforeEach(() => {
  compared.length = 0;
});

describe('comparing a guess with a secret', () => {
  const secret = 'gitlab-webhook-token-of-41-characters-xyz';

  it('does the same work for a guess of the right length and of any other length', () => {
    for (const guess of ['x', 'x'.repeat(secret.length), 'x'.repeat(4096), secret]) {
      safeEqual(guess, secret);
      matchesAny(guess, [secret, 'user:password']);
    }
    const sizes = new Set(compared.flat());
    expect(compared.length).toBe(12);
    expect([...sizes]).toEqual([32]);
  });

  it('still tells equal from unequal', () => {
    expect(safeEqual(secret, secret)).toBe(true);
    expect(safeEqual(`${secret}x`, secret)).toBe(false);
    expect(safeEqual('', secret)).toBe(false);
    expect(matchesAny('user:password', ['other:pw', 'user:password'])).toBe(true);
    expect(matchesAny('user:passwor', ['other:pw', 'user:password'])).toBe(false);
  });
});
