#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Config } from './config/index.js';
import { ChangegateError, coerceError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { createBus } from './bus/index.js';
import { reconcile } from './commands/reconcile.js';
import { tail } from './commands/tail.js';
import { registerAuditCommands } from './commands/audit-export-cli.js';
import { registerReplayCommand } from './commands/replay-cli.js';
import { registerRecoverCommand } from './commands/recover-cli.js';
import { registerRecoverGitlabCommand } from './commands/recover-gitlab-cli.js';
import { createMetrics } from './metrics.js';
import { createOpsRoutes } from './http/ops.js';
import { listen } from './runtime/listen.js';
import { startReceiver } from './runtime/receiver.js';
import { onShutdown } from './runtime/signals.js';
import {
  WORKER_NAMES,
  servicenowClients,
  startWorkers,
  type WorkerName,
} from './runtime/workers.js';
import { registerSpoolCommands } from './commands/spool-cli.js';
import { registerDemoCommand } from './demo/command.js';
import { registerSandboxCommands } from './sandbox/servicenow/index.js';
import { runDoctor } from './servicenow/doctor.js';

interface GlobalOptions {
  config?: string;
}

const program = new Command()
  .name('changegate')
  .description('Event-driven bridge from CI/CD to ServiceNow change management through Kafka')
  .option(
    '-c, --config <file>',
    'YAML configuration (default: $CHANGEGATE_CONFIG, else env defaults)',
  )
  .showHelpAfterError();

function load(overrides?: (raw: Record<string, unknown>) => void): { config: Config; log: Logger } {
  const { config: path } = program.opts<GlobalOptions>();
  const config = loadConfig({ path, env: process.env, ...(overrides ? { overrides } : {}) });
  return { config, log: createLogger({ level: config.log.level }) };
}

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('not a port number');
  return n;
};

program
  .command('start')
  .description('run the receiver (and, with --embedded, everything in one process)')
  .option('--embedded', 'in-memory bus instead of Kafka: for trying out and tests, not production')
  .option('-p, --port <port>', 'HTTP port (default $PORT or 8080)', port)
  .option('--no-workers', 'receiver only, even when a ServiceNow connection is configured')
  .action(async (opts: { embedded?: boolean; port?: number; workers: boolean }) => {
    const { config, log } = load((raw) => {
      if (opts.embedded) raw.bus = 'memory';
      if (opts.port !== undefined) raw.server = { ...(raw.server as object), port: opts.port };
    });
    const metrics = createMetrics();
    const bus = createBus(config, { log });
    const receiver = await startReceiver({ config, log, bus, metrics });
    const hasServiceNow = Object.keys(config.servicenow.connections).length > 0;
    if (opts.workers && !hasServiceNow) {
      log.warn(
        'no ServiceNow connection configured (CHANGEGATE_SERVICENOW_URL or servicenow.connections): receiving only, change and gate workers not started',
      );
    }
    const workers =
      opts.workers && hasServiceNow
        ? await startWorkers({ config, log, bus, metrics, names: WORKER_NAMES })
        : undefined;
    onShutdown(log, async () => {
      await receiver.close();
      await workers?.close();
      await bus.close();
    });
  });

program
  .command('worker')
  .description(`run workers apart from the receiver (${WORKER_NAMES.join(', ')})`)
  .argument('<names>', 'comma-separated worker names, e.g. change,gate')
  .option('-p, --port <port>', '/healthz, /readyz and /metrics port (default $PORT or 8080)', port)
  .action(async (namesArg: string, opts: { port?: number }) => {
    const names = namesArg.split(',').map((n) => n.trim());
    const unknown = names.filter((n) => !(WORKER_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) {
      throw new InvalidArgumentError(
        `unknown worker ${unknown.join(', ')}; known: ${WORKER_NAMES.join(', ')}`,
      );
    }
    const { config, log } = load();
    if (config.bus !== 'kafka')
      throw new InvalidArgumentError(
        'workers apart from the receiver need Kafka: set KAFKA_BROKERS',
      );
    const metrics = createMetrics();
    const bus = createBus(config, { log });
    const workers = await startWorkers({ config, log, bus, metrics, names: names as WorkerName[] });
    // Workers answer probes and scrapes like the receiver does, on their own port.
    const ops = await listen(createOpsRoutes({ bus, metrics }).fetch, {
      ...config.server,
      port: opts.port ?? config.server.port,
    });
    log.info({ url: ops.url, workers: names }, 'worker health and metrics listening');
    onShutdown(log, async () => {
      await ops.close(config.server.shutdownGraceMs);
      await workers.close();
      await bus.close();
    });
  });

program
  .command('reconcile')
  .description(
    're-read the CRs of open gates once and apply them (for lost business-rule messages)',
  )
  .action(async () => {
    const { config, log } = load();
    if (config.bus !== 'kafka')
      throw new InvalidArgumentError('reconcile reads Kafka: set KAFKA_BROKERS');
    const bus = createBus(config, { log });
    const result = await reconcile({
      config,
      bus,
      servicenow: servicenowClients(config, log, createMetrics({ defaults: false })),
      log,
    });
    process.stdout.write(
      `${result.open} open gate CRs, ${result.published} re-read and published\n`,
    );
    await bus.close();
  });

program
  .command('doctor')
  .description(
    'check every ServiceNow connection: reachability, credentials, roles, outbound secret',
  )
  .action(async () => {
    const { config } = load((raw) => {
      // doctor checks ServiceNow only: it must not insist on Kafka settings.
      raw.bus ??= 'memory';
    });
    process.exitCode = await runDoctor({ config });
  });

program
  .command('tail')
  .description('print the events of a topic as JSON lines')
  .argument('<topic>', 'topic name, e.g. changegate.cicd.events')
  .option('--from-beginning', 'start at the oldest record instead of new ones')
  .addOption(new Option('--max <n>', 'exit after n records').argParser(Number))
  .addOption(new Option('--idle-ms <ms>', 'exit after ms without a record').argParser(Number))
  .action(
    async (topic: string, opts: { fromBeginning?: boolean; max?: number; idleMs?: number }) => {
      const { config, log } = load();
      if (config.bus !== 'kafka')
        throw new InvalidArgumentError('tail reads Kafka: set KAFKA_BROKERS');
      await tail(config, log, {
        topic,
        fromBeginning: opts.fromBeginning ?? false,
        max: opts.max,
        idleMs: opts.idleMs,
      });
    },
  );

registerReplayCommand(program, load);
registerRecoverCommand(program, load);
registerRecoverGitlabCommand(program, load);
registerAuditCommands(program, load);
registerDemoCommand(program);
registerSpoolCommands(program, () => load().config);
registerSandboxCommands(program);
(await import('./sandbox/ci/cli.js')).registerCiEmulatorCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const error = coerceError(err);
  // Config and argument errors are for a person: the message, not a stack.
  process.stderr.write(
    `changegate: ${error instanceof ChangegateError ? error.message : (error.stack ?? error.message)}\n`,
  );
  process.exitCode = error instanceof ChangegateError ? 2 : 1;
});
