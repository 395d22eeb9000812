/**
 * Start `changegate start` as a child process on the bench broker (receiver only: no ServiceNow
 * connection is configured, so no workers), from a generated YAML config.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BENCH_SECRET } from './github-deliveries.js';
import { freePort, spawnTs, waitHttp, type Child } from './process.js';

export interface ChangegateProcess {
  url: string;
  child: Child;
  stop(): Promise<void>;
}

const TOPIC_KEYS = ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries'];

/** Topic names under `prefix`, for a fresh set per scenario. */
export function prefixedTopics(prefix: string): Record<string, string> {
  return Object.fromEntries(TOPIC_KEYS.map((k) => [k, `${prefix}.${k}`]));
}

export async function startChangegate(options: {
  brokers: string;
  topicPrefix: string;
  partitions?: number;
  /** Extra `ingest` settings, e.g. `{ maxBodyBytes }`. */
  ingest?: Record<string, unknown>;
  nodeFlags?: string[];
  /** Defaults to a free port. */
  port?: number;
}): Promise<ChangegateProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'changegate-bench-'));
  const configPath = join(dir, 'changegate.yaml');
  writeFileSync(
    configPath,
    stringify({
      bus: 'kafka',
      server: { port, host: '127.0.0.1' },
      log: { level: 'warn' },
      sources: { github: { secrets: [BENCH_SECRET] } },
      security: { encryptionKey: randomBytes(32).toString('base64') },
      kafka: {
        brokers: [options.brokers],
        partitions: options.partitions ?? 6,
        topics: prefixedTopics(options.topicPrefix),
      },
      ...(options.ingest ? { ingest: options.ingest } : {}),
    }),
  );
  const child = spawnTs({
    entry: 'src/cli.ts',
    args: ['--config', configPath, 'start'],
    nodeFlags: options.nodeFlags ?? [],
    env: { NODE_ENV: 'production' },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/readyz`, child);
  return { url, child, stop: () => child.stop() };
}

/** The naive baseline server (bench/baseline/server.ts) on a free port. */
export async function startBaseline(options: {
  brokers: string;
  topic: string;
}): Promise<ChangegateProcess> {
  const port = await freePort();
  const child = spawnTs({
    entry: 'bench/baseline/server.ts',
    env: {
      PORT: String(port),
      KAFKA_BROKERS: options.brokers,
      GITHUB_SECRET: BENCH_SECRET,
      TOPIC: options.topic,
      NODE_ENV: 'production',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, child);
  return { url, child, stop: () => child.stop() };
}
