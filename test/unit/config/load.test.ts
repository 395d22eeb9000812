import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'changegate-config-'));
  const path = join(dir, 'changegate.yaml');
  writeFileSync(path, text);
  return path;
}

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('builds a one-line start from env variables alone', () => {
    const config = loadConfig({
      env: {
        PORT: '9000',
        KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
        CHANGEGATE_GITHUB_SECRET: 'github-secret-of-the-load-test',
        CHANGEGATE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        CHANGEGATE_GITLAB_TOKEN: 't1,t2',
        CHANGEGATE_JENKINS_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        CHANGEGATE_AZURE_DEVOPS_BASIC: 'hook:pw',
      },
    });
    expect(config.server.port).toBe(9000);
    expect(config.bus).toBe('kafka');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(config.sources.github?.secrets).toEqual(['github-secret-of-the-load-test']);
    expect(config.sources.gitlab?.tokens).toEqual(['t1', 't2']);
    expect(config.sources.jenkins?.secrets).toHaveLength(1);
    expect(config.sources.azureDevops?.basic).toEqual(['hook:pw']);
    expect(config.kafka.topics.cicd).toBe('changegate.cicd.events');
    expect(config.ingest.maxBodyBytes).toBe(1024 * 1024);
  });

  it('says how to fix a Kafka start with no brokers', () => {
    const err = errorOf(() => loadConfig({ env: {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.issues.join()).toMatch(
      /kafka\.brokers: no Kafka brokers: set KAFKA_BROKERS .* --embedded/,
    );
  });

  it('runs embedded with no brokers when told to', () => {
    const config = loadConfig({ env: {}, overrides: (raw) => (raw.bus = 'memory') });
    expect(config.bus).toBe('memory');
  });

  it('interpolates ${VAR} and ${VAR:-default} after parsing the YAML', () => {
    const path = yamlFile(`
bus: memory
server:
  port: \${PORT:-7070}
sources:
  github:
    secrets: ["\${GH_SECRET}", "old-\${GH_SECRET}"]
`);
    const config = loadConfig({ path, env: { GH_SECRET: 'a: b # not yaml, and long enough' } });
    expect(config.server.port).toBe(7070);
    expect(config.sources.github?.secrets).toEqual([
      'a: b # not yaml, and long enough',
      'old-a: b # not yaml, and long enough',
    ]);
  });

  it('names a missing environment variable with the key that needs it', () => {
    const path = yamlFile('bus: memory\nsources:\n  github:\n    secrets: ${NOPE}\n');
    expect(errorOf(() => loadConfig({ path, env: {} })).issues).toEqual([
      'sources.github.secrets: environment variable NOPE is not set',
    ]);
  });

  it('lists every bad key at once', () => {
    const path = yamlFile(`
bus: memory
server: { port: 99999 }
sources:
  jenkins: { secrets: ["not a whsec"] }
ingest: { lingerMs: -1 }
`);
    const issues = errorOf(() => loadConfig({ path, env: {} })).issues.join('\n');
    expect(issues).toMatch(/^server\.port: /m);
    expect(issues).toMatch(/^sources\.jenkins\.secrets\.0: must be canonical base64/m);
    expect(issues).toMatch(/^ingest\.lingerMs: /m);
  });

  it('reports a file that is not YAML or cannot be read', () => {
    expect(errorOf(() => loadConfig({ path: yamlFile('a: [1, 2'), env: {} })).message).toMatch(
      /not valid YAML/,
    );
    expect(errorOf(() => loadConfig({ path: '/nonexistent.yaml', env: {} })).message).toMatch(
      /cannot read \/nonexistent\.yaml/,
    );
  });
});
