import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createKafkaBus } from '../../../src/bus/kafka.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { KafkaSchema } from '../../../src/config/schema.js';
import type { CiEmulatorAnnouncement } from '../../../src/sandbox/ci/cli.js';
import { E2E_SECRETS, freePort, poll, type E2eStack } from '../../e2e/harness.js';
import { ciAdmin, sandboxAdmin } from '../../e2e/support/admin-clients.js';
import { spawnCli, type CliProcess } from '../../e2e/support/process.js';
import { startOwnBroker, type OwnBroker } from './broker.js';
import { spawnScript } from './node-process.js';

/**
 * The process set the fault suite breaks on purpose: its own Kafka broker, the ServiceNow
 * sandbox (with business-rule jitter), the CI emulator, a receiver (`start`) and a worker
 * (`worker change,gate,incident`). It is an {@link E2eStack}, so the e2e deployment builders
 * work on it, plus handles to kill and restart the receiver and the broker.
 *
 * @module
 */

/** Pipelines whose failures file incidents (`acme/fault-svc-<n>`). */
export const INCIDENT_PROJECT_PREFIX = 'acme/fault-svc-';
/** Deployments here are not change-controlled (no CR, no gate): filler traffic. */
export const UNCONTROLLED_ENV = 'staging';

export interface FaultStack extends E2eStack {
  broker: OwnBroker;
  topics: Record<string, string>;
  receiver(): CliProcess;
  killReceiver(): Promise<void>;
  restartReceiver(): Promise<void>;
}

export interface FaultStackOptions {
  kafkaPort: number;
  /** Random 0..N ms delay per business-rule message (out-of-order delivery). */
  outboundJitterMs: number;
}

const OAUTH = { clientId: 'changegate-faults', clientSecret: randomBytes(12).toString('hex') };
const TOPIC_NAMES = ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries'];

/** Create the topics and wait for partition leaders, as the e2e harness does. */
async function provisionTopics(brokers: string[], topics: Record<string, string>): Promise<void> {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-faults-provision' });
  try {
    await bus.ensureTopics(topicSpecs(KafkaSchema.parse({ brokers, topics, partitions: 3 })));
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

const isLog = (msg: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg === msg;
  } catch {
    return false;
  }
};

function configs(
  brokers: string[],
  topics: Record<string, string>,
  ciInfo: CiEmulatorAnnouncement,
  snUrl: string,
  receiverPort: number,
) {
  const ciHost = new URL(ciInfo.url).host;
  const common = {
    bus: 'kafka',
    log: { level: 'info' },
    // Fast group rebalances: a SIGKILLed worker's partitions move on within seconds.
    kafka: { brokers, clientId: 'changegate-faults', topics, partitions: 3 },
    sources: {
      github: { secrets: [E2E_SECRETS.github] },
      gitlab: { tokens: [E2E_SECRETS.gitlab] },
      jenkins: { secrets: [E2E_SECRETS.whsec] },
      azureDevops: { basic: [`${E2E_SECRETS.azureUser}:${E2E_SECRETS.azurePassword}`] },
      servicenow: { secrets: [E2E_SECRETS.whsec] },
    },
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
        { name: 'uncontrolled', match: { environment: `${UNCONTROLLED_ENV}*` }, mode: 'none' },
        { name: 'controlled', match: {}, mode: 'normal', gate: 'default' },
      ],
    },
    gates: { policies: { default: {} } },
    incidents: {
      policies: [
        {
          name: 'fault-pipelines',
          match: { project: `${INCIDENT_PROJECT_PREFIX}*` },
          on: ['pipeline.failed'],
        },
      ],
    },
  };
  return {
    receiver: { ...common, server: { port: receiverPort, host: '127.0.0.1' } },
    worker: {
      ...common,
      servicenow: {
        connections: {
          main: {
            url: snUrl,
            auth: { type: 'oauth', ...OAUTH },
            // Injected timeouts hang until the client gives up: keep that short.
            timeoutMs: 1500,
            retry: { baseDelayMs: 50, maxDelayMs: 2000 },
            rateLimit: { requestsPerSecond: 2000, burst: 2000 },
          },
        },
      },
    },
  };
}

/**
 * Start every process; resolves once the receiver is ready and the worker consumes.
 * @throws Error (with the log directory) when a process does not come up
 */
export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const logDir = mkdtempSync(join(tmpdir(), 'changegate-faults-'));
  const processes: CliProcess[] = [];
  const started = Date.now();
  const broker = await startOwnBroker(options.kafkaPort);
  const receiverPort = await freePort();
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;
  try {
    const servicenow = spawnScript({
      name: 'servicenow',
      script: 'test/faults/support/sandbox-main.ts',
      logDir,
      env: {
        FAULTS_SANDBOX_OPTIONS: JSON.stringify({
          port: await freePort(),
          oauth: OAUTH,
          outbound: [{ url: `${receiverUrl}/hooks/servicenow`, secret: E2E_SECRETS.whsec }],
          outboundJitterMs: options.outboundJitterMs,
          // An instance with the whole install kit (deploy/servicenow): the journal read ACL the
          // incident worker counts repeat failures with (step 5c) and the optional count field
          // the tally reads (step 5d).
          readAcls: { sys_journal_field: ['itil'] },
          dictionary: { incident: { columns: { u_changegate_failures: 'integer' } } },
        }),
      },
    });
    processes.push(servicenow);
    const ciProcess = spawnCli({ name: 'ci', logDir, args: ['sandbox', 'ci', '--port', '0'] });
    processes.push(ciProcess);
    const [snLine, ciLine] = await Promise.all([
      servicenow.waitForLine((l) => l.includes('ServiceNow sandbox listening on'), 60_000),
      ciProcess.waitForLine((l) => l.startsWith('{"url"'), 60_000),
    ]);
    const snUrl = /listening on (http:\/\/\S+)/.exec(snLine)![1]!;
    const ciInfo = JSON.parse(ciLine) as CiEmulatorAnnouncement;

    const brokers = [broker.brokers];
    const prefix = `faults-${randomUUID().slice(0, 8)}`;
    const topics = Object.fromEntries(TOPIC_NAMES.map((t) => [t, `${prefix}.${t}`]));
    await provisionTopics(brokers, topics);
    const config = configs(brokers, topics, ciInfo, snUrl, receiverPort);
    const receiverConfig = join(logDir, 'receiver.yaml');
    const workerConfig = join(logDir, 'worker.yaml');
    writeFileSync(receiverConfig, stringify(config.receiver));
    writeFileSync(workerConfig, stringify(config.worker));

    let receiverRuns = 0;
    const startReceiver = async () => {
      receiverRuns += 1;
      const proc = spawnCli({
        name: `receiver-${receiverRuns}`,
        logDir,
        args: ['--config', receiverConfig, 'start'],
      });
      processes.push(proc);
      await poll(
        async () => (await fetch(`${receiverUrl}/readyz`).catch(() => undefined))?.status === 200,
        `receiver-${receiverRuns} /readyz (logs in ${logDir})`,
        120_000,
        100,
      );
      return proc;
    };
    let workerRuns = 0;
    const startWorker = async () => {
      workerRuns += 1;
      const proc = spawnCli({
        name: `worker-${workerRuns}`,
        logDir,
        args: ['--config', workerConfig, 'worker', 'change,gate,incident'],
      });
      processes.push(proc);
      await proc.waitForLine(isLog('workers running'), 120_000);
      return proc;
    };
    let [receiver, worker] = await Promise.all([startReceiver(), startWorker()]);
    console.log(
      `[faults] 6 processes up in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${logDir}`,
    );
    return {
      receiverUrl,
      sn: sandboxAdmin(snUrl),
      ci: ciAdmin(ciInfo.url),
      ciInfo,
      logDir,
      broker,
      topics,
      worker: () => worker,
      receiver: () => receiver,
      killWorker: () => worker.kill(),
      async restartWorker() {
        worker = await startWorker();
      },
      killReceiver: () => receiver.kill(),
      async restartReceiver() {
        receiver = await startReceiver();
      },
      async close() {
        await Promise.all(processes.map((p) => p.stop(5000)));
        await broker.close();
      },
    };
  } catch (err) {
    await Promise.all(processes.map((p) => p.stop(2000)));
    await broker.close();
    throw err;
  }
}
