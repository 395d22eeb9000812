import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createKafkaBus } from '../../src/bus/kafka.js';
import { topicSpecs } from '../../src/bus/topics.js';
import { KafkaSchema } from '../../src/config/schema.js';
import type { CiEmulatorAnnouncement } from '../../src/sandbox/ci/cli.js';
import {
  ciAdmin,
  sandboxAdmin,
  type CiAdminClient,
  type SandboxAdminClient,
} from './support/admin-clients.js';
import { spawnCli, type CliProcess } from './support/process.js';

/**
 * changegate as it runs in production, for end-to-end tests: every part a separate process on
 * real HTTP and the real Kafka broker of the test run —
 *
 *   ServiceNow sandbox ──business rule──► receiver (`start`) ──Kafka──► worker (`worker change,gate`)
 *   CI emulator (`sandbox ci`) ◄────────────── release / reject ─────────────┘
 *
 * One process set per test file; tests tell their gates apart by unique ids.
 *
 * @module
 */

/** Secrets the senders sign with and the receiver checks. */
export const E2E_SECRETS = {
  github: `gh-${randomBytes(16).toString('hex')}`,
  gitlab: `gl-${randomBytes(8).toString('hex')}`,
  /** Jenkins deliveries and ServiceNow business-rule messages (Standard Webhooks). */
  whsec: `whsec_${randomBytes(32).toString('base64')}`,
  azureUser: 'azure-check',
  azurePassword: `az-${randomBytes(8).toString('hex')}`,
};

const OAUTH = { clientId: 'changegate-e2e', clientSecret: randomBytes(12).toString('hex') };

/** What a hand-raised CR carries so that the `controlled` policy lets a pipeline link it. */
export const LINKABLE_JUSTIFICATION = 'release planned with changegate';

/** Environments routed to the special gate policies (see {@link gatePolicies}). */
export const ENV = {
  /** Default gate policy. */
  production: 'production',
  /** A blackout covering the whole run. */
  freeze: 'freeze-production',
  /** Expires after 0.05 minutes (3 s). */
  hurry: 'hurry-production',
} as const;

/** Gate policies in effect; `timeoutMinutes` of `hurry` is what the expiry test waits on. */
export function gatePolicies(now = Date.now()) {
  return {
    default: {},
    freeze: {
      blackouts: [
        {
          name: 'e2e freeze',
          start: new Date(now - 3600_000).toISOString(),
          end: new Date(now + 3 * 3600_000).toISOString(),
        },
      ],
    },
    hurry: { timeoutMinutes: 0.05 },
  };
}

export interface E2eStack {
  /** Receiver base URL (`/hooks/*`). */
  receiverUrl: string;
  sn: SandboxAdminClient;
  ci: CiAdminClient;
  /** The `sandbox ci` announcement: URL and credentials. */
  ciInfo: CiEmulatorAnnouncement;
  logDir: string;
  /** The worker process now (changes after {@link E2eStack.restartWorker}). */
  worker(): CliProcess;
  /** SIGKILL the worker process: no shutdown, no offset commit, no group leave. */
  killWorker(): Promise<void>;
  /** Start a new worker process with the same config and wait until it consumes. */
  restartWorker(): Promise<void>;
  close(): Promise<void>;
}

/** The worker processes of a stack started with several (`workers` of startE2eStack). */
export interface E2eWorkerSet {
  /** Start one more worker process running `names` (e.g. `gate`), same config. */
  startWorker(names: string): Promise<CliProcess>;
  /** Every worker process started, in start order (killed ones included). */
  workers(): CliProcess[];
  /** The run's topic names, by config key. */
  topics: Record<string, string>;
}

/** A port that was free a moment ago (the receiver's, so the sandbox can be told it up front). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Poll `check` until it returns a truthy value (tests poll; the product never does). */
export async function poll<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`[e2e] timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const isLog = (msg: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg === msg;
  } catch {
    return false;
  }
};

/**
 * Create the topics up front, as a deployment does (Strimzi KafkaTopic, a provisioning job), and
 * wait until every partition has a leader that answers ListOffsets. Left to the receiver, a
 * topic created a moment earlier can fail its first ListOffsets with NOT_LEADER_FOR_PARTITION,
 * which KafkaBus.readToEnd (DeliveryLog.restore at receiver start) does not retry.
 */
async function provisionTopics(
  brokers: string[],
  topics: Record<string, string>,
  partitions: number,
): Promise<void> {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-e2e-provision' });
  try {
    const kafka = KafkaSchema.parse({ brokers, topics, partitions });
    await bus.ensureTopics(topicSpecs(kafka));
    for (const topic of Object.values(topics)) {
      await poll(
        () =>
          bus
            .readToEnd(topic, () => undefined)
            .then(
              () => true,
              () => false,
            ),
        `partition leaders of ${topic}`,
        30_000,
        200,
      );
    }
  } finally {
    await bus.close();
  }
}

async function waitReady(url: string, proc: CliProcess, timeoutMs: number): Promise<void> {
  await poll(
    async () => {
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      return res?.status === 200;
    },
    `${proc.name} /readyz (logs: ${proc.name}.*.log)`,
    timeoutMs,
    100,
  );
}

/**
 * Start the ServiceNow sandbox, the CI emulator, a receiver and a change+gate worker as four
 * processes on `brokers`, with topics unique to `name`.
 * @example const stack = await startE2eStack({ name: 'providers', brokers: kafkaBrokers() })
 */
export async function startE2eStack({
  name,
  brokers,
  workers: workerSets = ['change,gate'],
  partitions = 3,
}: {
  name: string;
  brokers: string[];
  /** One worker process per entry, each running the named workers. */
  workers?: string[];
  /** Partitions of every topic. */
  partitions?: number;
}): Promise<E2eStack & E2eWorkerSet> {
  const logDir = mkdtempSync(join(tmpdir(), `changegate-e2e-${name}-`));
  const processes: CliProcess[] = [];
  const started = Date.now();
  const receiverPort = await freePort();
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;

  const servicenow = spawnCli({
    name: 'servicenow',
    logDir,
    args: [
      'sandbox',
      'servicenow',
      '--port',
      String(await freePort()),
      '--client-id',
      OAUTH.clientId,
      '--client-secret',
      OAUTH.clientSecret,
      '--outbound',
      `${receiverUrl}/hooks/servicenow`,
      '--outbound-secret',
      E2E_SECRETS.whsec,
    ],
  });
  processes.push(servicenow);
  const ciProcess = spawnCli({
    name: 'ci',
    logDir,
    args: ['sandbox', 'ci', '--port', String(await freePort())],
  });
  processes.push(ciProcess);

  try {
    const [snLine, ciLine] = await Promise.all([
      servicenow.waitForLine((l) => l.includes('ServiceNow sandbox listening on'), 30_000),
      ciProcess.waitForLine((l) => l.startsWith('{"url"'), 30_000),
    ]);
    const snUrl = /listening on (http:\/\/\S+)/.exec(snLine)![1]!;
    const ciInfo = JSON.parse(ciLine) as CiEmulatorAnnouncement;

    const prefix = `e2e-${name}-${randomUUID().slice(0, 8)}`;
    const topics = Object.fromEntries(
      ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries'].map((t) => [
        t,
        `${prefix}.${t}`,
      ]),
    );
    await provisionTopics(brokers, topics, partitions);
    const ciHost = new URL(ciInfo.url).host;
    const common = {
      bus: 'kafka',
      log: { level: 'info' },
      // Consumer groups of their own too: two runs on the shared broker in one group would be
      // assigned each other's topics.
      kafka: {
        brokers,
        clientId: `changegate-${name}`,
        topics,
        partitions,
        groupPrefix: prefix,
      },
      sources: {
        github: { secrets: [E2E_SECRETS.github] },
        gitlab: { tokens: [E2E_SECRETS.gitlab] },
        jenkins: { secrets: [E2E_SECRETS.whsec] },
        azureDevops: { basic: [`${E2E_SECRETS.azureUser}:${E2E_SECRETS.azurePassword}`] },
        servicenow: { secrets: [E2E_SECRETS.whsec] },
      },
      // Shared: the receiver seals Azure job tokens, the worker opens them.
      security: { encryptionKey: randomBytes(32).toString('base64') },
      ci: {
        allowLoopback: true,
        github: {
          appId: ciInfo.credentials.githubAppId,
          privateKey: ciInfo.credentials.githubAppPrivateKey,
          apiUrl: ciInfo.url,
        },
        gitlab: { [ciHost]: { token: ciInfo.credentials.gitlabToken } },
        jenkins: {
          [ciHost]: {
            user: ciInfo.credentials.jenkinsUser,
            apiToken: ciInfo.credentials.jenkinsToken,
          },
        },
      },
      changes: {
        policies: [
          {
            name: 'freeze',
            match: { environment: `${ENV.freeze}*` },
            mode: 'normal',
            gate: 'freeze',
          },
          { name: 'hurry', match: { environment: `${ENV.hurry}*` }, mode: 'normal', gate: 'hurry' },
          {
            name: 'controlled',
            match: {},
            mode: 'normal',
            gate: 'default',
            // A CR raised by hand may be named by a pipeline when it carries this justification.
            link: { byNumber: true, fields: { justification: LINKABLE_JUSTIFICATION } },
          },
        ],
      },
      gates: { policies: gatePolicies() },
    };
    // No ServiceNow connection: `start` then runs the receiver only, so the change and gate
    // workers live in the worker process alone, as in production.
    const receiverConfig = join(logDir, 'receiver.yaml');
    writeFileSync(
      receiverConfig,
      stringify({ ...common, server: { port: receiverPort, host: '127.0.0.1' } }),
    );
    const workerConfig = join(logDir, 'worker.yaml');
    writeFileSync(
      workerConfig,
      stringify({
        ...common,
        servicenow: {
          connections: {
            main: {
              url: snUrl,
              auth: { type: 'oauth', ...OAUTH },
              retry: { baseDelayMs: 20 },
              // The sandbox is local: the production default (20/s) would queue the latency test.
              rateLimit: { requestsPerSecond: 2000, burst: 2000 },
            },
          },
        },
      }),
    );

    const receiver = spawnCli({
      name: 'receiver',
      logDir,
      args: ['--config', receiverConfig, 'start'],
    });
    processes.push(receiver);

    let workerRuns = 0;
    const workerProcs: CliProcess[] = [];
    const startWorker = async (names = workerSets[0]!) => {
      workerRuns += 1;
      const proc = spawnCli({
        name: `worker-${workerRuns}`,
        logDir,
        args: ['--config', workerConfig, 'worker', names, '--port', '0'],
      });
      processes.push(proc);
      workerProcs.push(proc);
      // Logged after both consumer groups joined: from here on nothing published is missed.
      await proc.waitForLine(isLog('workers running'), 60_000);
      return proc;
    };
    // The two start in parallel: the topics exist, and neither needs the other to come up.
    const [[firstWorker]] = await Promise.all([
      Promise.all(workerSets.map((names) => startWorker(names))),
      waitReady(receiverUrl, receiver, 60_000),
    ]);
    let worker = firstWorker!;
    console.log(
      `[e2e] ${name}: ${3 + workerSets.length} processes up in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${logDir}`,
    );

    return {
      receiverUrl,
      sn: sandboxAdmin(snUrl),
      ci: ciAdmin(ciInfo.url),
      ciInfo,
      logDir,
      worker: () => worker,
      killWorker: () => worker.kill(),
      async restartWorker() {
        worker = await startWorker();
      },
      startWorker: (names) => startWorker(names),
      workers: () => [...workerProcs],
      topics,
      async close() {
        await Promise.all(processes.map((p) => p.stop()));
      },
    };
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop(2000)));
    throw err;
  }
}
