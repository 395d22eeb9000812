import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaBus } from '../../../src/bus/kafka.js';
import { encodeFrame } from '../../../src/spool/frame.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { writeConfig } from '../../support/process-stack/config.js';
import { freePort } from '../../support/process-stack/free-port.js';
import type { OwnBroker } from '../../support/process-stack/own-broker.js';
import type { Exit, TestProcess } from '../../support/process-stack/process.js';
import { startReceiverProcess } from '../../support/process-stack/roles.js';
import { provisionTopics, stackTopics } from '../../support/process-stack/topics.js';

/**
 * A receiver process (`changegate start`, no workers) with its spool in a directory of its own,
 * on the fault suite's broker: enough to break Kafka and the receiver under it and count what
 * reached `changegate.cicd.events`. GitHub deliveries, signed, each with its own body (a body
 * sent twice is a replay and deduped).
 *
 * @module
 */

export const GITHUB_SECRET = `gh-${randomBytes(16).toString('hex')}`;

export interface SpoolReceiver {
  url: string;
  spoolDir: string;
  topics: Record<string, string>;
  proc(): TestProcess;
  kill(): Promise<Exit>;
  restart(): Promise<void>;
  stop(): Promise<Exit>;
  /** Append the first bytes of a frame to the newest segment: a write a kill -9 cut short. */
  tearLastSegment(): void;
}

export async function startSpoolReceiver({
  broker,
  logDir,
  name,
  spoolMaxBytes,
}: {
  broker: OwnBroker;
  logDir: string;
  name: string;
  spoolMaxBytes?: number;
}): Promise<SpoolReceiver> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spoolDir = mkdtempSync(join(tmpdir(), `changegate-faults-spool-${name}-`));
  const topics = stackTopics(`spool-${name}-${randomUUID().slice(0, 8)}`);
  const brokers = [broker.brokers];
  const partitions = 3;
  await provisionTopics(brokers, topics, partitions);
  const configPath = writeConfig(logDir, name, {
    bus: 'kafka',
    log: { level: 'info' },
    server: { port, host: '127.0.0.1' },
    kafka: { brokers, clientId: `faults-${name}`, topics, partitions },
    sources: { github: { secrets: [GITHUB_SECRET] } },
    security: { encryptionKey: randomBytes(32).toString('base64') },
    ingest: {
      // Deliveries wait at most 2 s for Kafka before they are spooled.
      publishTimeoutMs: 2000,
      spool: { dir: spoolDir, ...(spoolMaxBytes ? { maxBytes: spoolMaxBytes } : {}) },
    },
  });
  let runs = 0;
  // /healthz, not /readyz: a receiver restarted while Kafka is down serves from its spool.
  const start = () =>
    startReceiverProcess({
      name: `${name}-${(runs += 1)}`,
      logDir,
      configPath,
      url,
      args: ['--no-workers'],
      probe: '/healthz',
      timeoutMs: 120_000,
    });
  let proc = await start();
  return {
    url,
    spoolDir,
    topics,
    proc: () => proc,
    kill: () => proc.kill(),
    async restart() {
      proc = await start();
    },
    stop: () => proc.stop(5000),
    tearLastSegment() {
      const segments = readdirSync(spoolDir)
        .filter((f) => f.endsWith('.seg'))
        .sort();
      const last = segments.at(-1);
      if (!last) throw new Error(`[faults] no spool segment in ${spoolDir}`);
      const frame = encodeFrame({ keys: ['torn'], at: Date.now(), records: [] });
      appendFileSync(join(spoolDir, last), frame.subarray(0, frame.length - 3));
    },
  };
}

/**
 * A signed GitHub `workflow_run` delivery: the recorded example payload plus one added top-level
 * key naming the delivery (no field changed), because one body sent twice is a replay.
 */
export function githubDelivery(id: string) {
  const payload = { ...githubFixture('workflow_run.completed'), changegate_test_delivery: id };
  return githubRequest('workflow_run', payload, { secret: GITHUB_SECRET, deliveryId: id });
}

export interface Answer {
  id: string;
  /** Every status answered, in order; 0 = no answer (connection refused while restarting). */
  statuses: number[];
  durability: string | null;
}

/**
 * POST until a 2xx, like a sender that retries: a connection error (receiver restarting) is
 * retried after 200 ms; any answered status is recorded, and only a 503 is retried (after 1 s).
 */
export async function deliver(url: string, id: string, maxAttempts = 120): Promise<Answer> {
  const statuses: number[] = [];
  for (let n = 0; n < maxAttempts; n++) {
    const request = githubDelivery(id);
    const res = await fetch(`${url}/hooks/github`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(15_000),
    }).catch(() => undefined);
    statuses.push(res?.status ?? 0);
    if (res) await res.arrayBuffer();
    if (res && res.status >= 200 && res.status < 300) {
      return { id, statuses, durability: res.headers.get('changegate-durability') };
    }
    if (res && res.status !== 503) break;
    await new Promise((r) => setTimeout(r, res ? 1000 : 200));
  }
  return { id, statuses, durability: null };
}

/** How many times each CloudEvent id is on `topic` (the broker must be up). */
export async function countIds(brokers: string, topic: string): Promise<Map<string, number>> {
  const bus = createKafkaBus({ brokers: [brokers], clientId: 'changegate-faults-spool-tally' });
  const seen = new Map<string, number>();
  try {
    await bus.readToEnd(topic, (r) => {
      const id = r.headers.ce_id;
      if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
    });
  } finally {
    await bus.close();
  }
  return seen;
}

/** {@link countIds}, retried while the broker is still coming up (coordinator loading, …). */
export async function countIdsSettled(
  brokers: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await countIds(brokers, topic);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Deliver warm-up deliveries until one goes straight to Kafka: the receiver is connected. */
export async function untilLive(url: string, prefix: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; ; n++) {
    const answer = await deliver(url, `${prefix}-warm-${n}`);
    if (answer.durability === 'kafka') return;
    if (Date.now() > deadline) throw new Error(`[faults] ${url} never wrote to Kafka directly`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Poll until every id is on the topic (or the timeout); returns the last count. */
export async function waitForIds(
  brokers: string,
  topic: string,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await countIds(brokers, topic).catch(() => new Map<string, number>());
    if (ids.every((id) => seen.has(id)) || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
