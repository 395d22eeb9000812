import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

// Issue 15 hole 6: `whsec_A` (Node decodes it to a 0-byte HMAC key, so anyone can sign) and an
// encryption key of 32 zero bytes were accepted, and a Kafka start without an encryption key only
// warned. Each is refused at start now, naming the key and never showing its value.

const KEY = Buffer.alloc(32, 0x5a).toString('base64');
const GITHUB = 'a-github-webhook-secret-long-enough';

function issuesOf(raw: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    loadConfig({ env, overrides: (r) => Object.assign(r, { bus: 'memory', ...raw }) });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  return [];
}

describe('weak keys at start', () => {
  it('refuses whsec_A, a Standard-Webhooks secret that decodes to 0 bytes', () => {
    const issues = issuesOf({ sources: { generic: { argo: { secrets: ['whsec_A'] } } } });
    expect(issues).toEqual([
      expect.stringMatching(/^sources\.generic\.argo\.secrets\.0: must be canonical base64/),
    ]);
    expect(issues.join()).not.toContain('whsec_A');
  });

  it('refuses a Standard-Webhooks key shorter than 24 bytes and one of zero bytes', () => {
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`;
    const zero = `whsec_${Buffer.alloc(32).toString('base64')}`;
    const issues = issuesOf({ sources: { jenkins: { secrets: [short, zero] } } });
    expect(issues).toEqual([
      'sources.jenkins.secrets.0: must be at least 24 bytes (is 16)',
      'sources.jenkins.secrets.1: is all zero bytes: generate a random key',
    ]);
    for (const secret of [short, zero]) expect(issues.join()).not.toContain(secret.slice(6));
  });

  it('refuses base64 Node would quietly truncate (junk after the padding, missing padding)', () => {
    const good = Buffer.alloc(32, 3).toString('base64');
    const issues = issuesOf({
      sources: { servicenow: { secrets: [`whsec_${good}!!`, `whsec_${good.replace(/=+$/, '')}`] } },
    });
    expect(issues).toHaveLength(2);
    expect(issues.every((i) => /must be canonical base64/.test(i))).toBe(true);
  });

  it('refuses a GitHub webhook secret shorter than 24 bytes', () => {
    const issues = issuesOf({ sources: { github: { secrets: ['hunter2'] } } });
    expect(issues).toEqual(['sources.github.secrets.0: must be at least 24 bytes (is 7)']);
  });

  it('refuses an encryption key of 32 zero bytes, and one of 31 bytes', () => {
    const zero = Buffer.alloc(32).toString('base64');
    expect(issuesOf({ security: { encryptionKey: zero } })).toEqual([
      'security.encryptionKey: is all zero bytes: generate a random key',
    ]);
    const short = Buffer.alloc(31, 1).toString('base64');
    const issues = issuesOf({ security: { encryptionKey: short } });
    expect(issues).toEqual(['security.encryptionKey: must be base64 of exactly 32 bytes (is 31)']);
    expect(issues.join()).not.toContain(short);
  });

  it('refuses a Kafka start without CHANGEGATE_ENCRYPTION_KEY, and starts with one', () => {
    const env = { KAFKA_BROKERS: '127.0.0.1:9092', CHANGEGATE_GITHUB_SECRET: GITHUB };
    let message = '';
    try {
      loadConfig({ env });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /security\.encryptionKey: required with the Kafka bus: set CHANGEGATE_ENCRYPTION_KEY/,
    );
    const config = loadConfig({ env: { ...env, CHANGEGATE_ENCRYPTION_KEY: KEY } });
    expect(config.security.encryptionKey).toBe(KEY);
  });

  it('accepts a strong configuration', () => {
    expect(
      issuesOf({
        sources: {
          github: { secrets: [GITHUB] },
          generic: { argo: { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] } },
        },
        security: { encryptionKey: KEY },
      }),
    ).toEqual([]);
  });
});
