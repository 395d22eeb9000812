import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

const env = new Proxy({} as Record<string, string>, {
  // PORT and KAFKA_BROKERS stay unset so the file's own defaults apply.
  get: (_, name) =>
    name === 'PORT' || name === 'KAFKA_BROKERS'
      ? undefined
      : name === 'CHANGEGATE_ENCRYPTION_KEY'
        ? Buffer.alloc(32, 1).toString('base64')
        : /WHSEC$/.test(String(name))
          ? `whsec_${Buffer.alloc(32, 2).toString('base64')}`
          : name === 'GITHUB_APP_ID'
            ? '12345'
            : name === 'GITHUB_APP_PRIVATE_KEY'
              ? '-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----'
              : `value-of-${String(name)}`,
});

describe('deploy/changegate.example.yaml', () => {
  it('is a valid configuration once its variables are set', () => {
    const config = loadConfig({ path: 'deploy/changegate.example.yaml', env });
    expect(config.changes.policies.map((p) => p.name)).toContain('payments-production');
    expect(config.gates.policies.default?.rules).toHaveLength(1);
    expect(config.servicenow.connections.prod?.url).toBe('https://acme.service-now.com');
  });
});
