import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CiEmulatorAnnouncement } from '../../../src/sandbox/ci/cli.js';
import {
  ciAdmin,
  sandboxAdmin,
  type CiAdminClient,
  type SandboxAdminClient,
} from './admin-clients.js';
import { stackConfigs, writeConfig, type ServiceNowTuning, type StackPolicies } from './config.js';
import { freePort } from './free-port.js';
import { startOwnBroker, type OwnBroker } from './own-broker.js';
import type { TestProcess } from './process.js';
import { startReceiverProcess, startWorkerProcess } from './roles.js';
import { startSandboxes, type SandboxScriptOptions } from './sandboxes.js';
import { provisionTopics, stackTopics } from './topics.js';

/**
 * changegate as it runs in production, every part a separate process on real HTTP and real
 * Kafka, for the e2e tests and the fault suite:
 *
 *   ServiceNow sandbox ──business rule──► receiver (`start`) ──Kafka──► worker (`worker <names>`)
 *   CI emulator (`sandbox ci`) ◄────────────── release / reject ─────────────┘
 *
 * Topics (and, on a shared broker, consumer groups) are the run's own; tests tell their gates
 * apart by unique ids. Receiver and workers can be SIGKILLed and started again on the same
 * config, and a stack on a broker of its own can stop and kill that broker.
 *
 * @module
 */

export interface ProcessStack {
  /** Receiver base URL (`/hooks/*`). */
  receiverUrl: string;
  sn: SandboxAdminClient;
  ci: CiAdminClient;
  /** The `sandbox ci` announcement: URL and credentials. */
  ciInfo: CiEmulatorAnnouncement;
  logDir: string;
  /** The run's topic names, by config key. */
  topics: Record<string, string>;
  /** The receiver process now (changes after {@link ProcessStack.restartReceiver}). */
  receiver(): TestProcess;
  killReceiver(): Promise<unknown>;
  /** Start a new receiver process with the same config and wait until it is ready. */
  restartReceiver(): Promise<void>;
  /** The first worker process, or the one {@link ProcessStack.restartWorker} started last. */
  worker(): TestProcess;
  /** SIGKILL that worker process: no shutdown, no offset commit, no group leave. */
  killWorker(): Promise<unknown>;
  /** Start a new worker process like the first and wait until it consumes. */
  restartWorker(): Promise<void>;
  /** Start one more worker process running `names` (e.g. `gate`), same config. */
  startWorker(names: string): Promise<TestProcess>;
  /** Every worker process started, in start order (killed ones included). */
  workers(): TestProcess[];
  close(): Promise<void>;
}

export interface ProcessStackOptions {
  /** Names the run: its log directory, topics, Kafka and OAuth client ids carry it. */
  name: string;
  /** One worker process per entry, each running the named workers. */
  workers?: string[];
  /** Partitions of every topic. */
  partitions?: number;
  policies: StackPolicies;
  servicenow?: ServiceNowTuning;
  /** Run the ServiceNow sandbox with options the CLI does not expose (see sandboxes.ts). */
  sandbox?: SandboxScriptOptions;
  /** How long a receiver or worker process may take to come up (the emulators: half). */
  startTimeoutMs?: number;
}

/** On a broker other runs use too. */
export type SharedBrokerOptions = ProcessStackOptions & { brokers: string[] };
/** On a broker of its own, started fresh on `ownBrokerPort` and closed with the stack. */
export type OwnBrokerOptions = ProcessStackOptions & { ownBrokerPort: number };

/**
 * Start every process; resolves once the receiver is ready and every worker consumes.
 * @throws Error (naming the log directory) when a process does not come up
 * @example const stack = await startProcessStack({ name: 'e2e-gates', brokers, policies })
 */
export function startProcessStack(
  options: OwnBrokerOptions,
): Promise<ProcessStack & { broker: OwnBroker }>;
export function startProcessStack(options: SharedBrokerOptions): Promise<ProcessStack>;
export async function startProcessStack(
  options: SharedBrokerOptions | OwnBrokerOptions,
): Promise<ProcessStack & { broker?: OwnBroker }> {
  const { name, workers: workerSets = ['change,gate'], partitions = 3 } = options;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const logDir = mkdtempSync(join(tmpdir(), `changegate-${name}-`));
  const processes: TestProcess[] = [];
  const started = Date.now();
  const broker =
    'ownBrokerPort' in options ? await startOwnBroker(options.ownBrokerPort) : undefined;
  const brokers = broker ? [broker.brokers] : (options as SharedBrokerOptions).brokers;
  const receiverPort = await freePort();
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;
  const oauth = { clientId: `changegate-${name}`, clientSecret: randomBytes(12).toString('hex') };
  const stopAll = async (graceMs?: number) => {
    await Promise.all(processes.map((p) => p.stop(graceMs)));
    await broker?.close();
  };

  try {
    const sandboxes = await startSandboxes({
      logDir,
      receiverUrl,
      oauth,
      ...(options.sandbox ? { script: options.sandbox } : {}),
      timeoutMs: startTimeoutMs / 2,
      processes,
    });
    const prefix = `${name}-${randomUUID().slice(0, 8)}`;
    const topics = stackTopics(prefix);
    await provisionTopics(brokers, topics, partitions);
    const configs = stackConfigs({
      brokers,
      topics,
      partitions,
      clientId: `changegate-${name}`,
      // Two runs on a shared broker in one group would be assigned each other's topics.
      ...(broker ? {} : { groupPrefix: prefix }),
      ci: sandboxes.ci,
      servicenowUrl: sandboxes.servicenowUrl,
      oauth,
      receiverPort,
      policies: options.policies,
      servicenow: options.servicenow ?? {},
    });
    const receiverConfig = writeConfig(logDir, 'receiver', configs.receiver);
    const workerConfig = writeConfig(logDir, 'worker', configs.worker);

    let receiverRuns = 0;
    const startReceiver = () =>
      startReceiverProcess({
        name: `receiver-${(receiverRuns += 1)}`,
        logDir,
        configPath: receiverConfig,
        url: receiverUrl,
        timeoutMs: startTimeoutMs,
        processes,
      });
    let workerRuns = 0;
    const workerProcs: TestProcess[] = [];
    const startWorker = async (names: string) => {
      // The slot is taken at spawn: workers() lists processes in start order (the order of
      // `workers`), not in the order they happened to become ready.
      const slot = workerRuns;
      const proc = await startWorkerProcess({
        name: `worker-${(workerRuns += 1)}`,
        logDir,
        configPath: workerConfig,
        names,
        timeoutMs: startTimeoutMs,
        processes,
      });
      workerProcs[slot] = proc;
      return proc;
    };
    // In parallel: the topics exist, and neither needs the other to come up.
    let [receiver, [worker]] = await Promise.all([
      startReceiver(),
      Promise.all(workerSets.map((names) => startWorker(names))),
    ]);
    console.log(
      `[${name}] ${processes.length + (broker ? 1 : 0)} processes up in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${logDir}`,
    );

    return {
      receiverUrl,
      sn: sandboxAdmin(sandboxes.servicenowUrl),
      ci: ciAdmin(sandboxes.ci.url),
      ciInfo: sandboxes.ci,
      logDir,
      topics,
      ...(broker ? { broker } : {}),
      receiver: () => receiver,
      killReceiver: () => receiver.kill(),
      async restartReceiver() {
        receiver = await startReceiver();
      },
      worker: () => worker!,
      killWorker: () => worker!.kill(),
      async restartWorker() {
        worker = await startWorker(workerSets[0]!);
      },
      startWorker,
      workers: () => workerProcs.filter(Boolean),
      close: () => stopAll(),
    };
  } catch (err) {
    await stopAll(2000);
    throw err;
  }
}
