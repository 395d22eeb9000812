#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, type Config } from './config/index.js';
import { ChangegateError, coerceError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { tail } from './commands/tail.js';
import { startReceiver } from './runtime/receiver.js';
import { onShutdown } from './runtime/signals.js';

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
  .action(async (opts: { embedded?: boolean; port?: number }) => {
    const { config, log } = load((raw) => {
      if (opts.embedded) raw.bus = 'memory';
      if (opts.port !== undefined) raw.server = { ...(raw.server as object), port: opts.port };
    });
    if (config.bus === 'memory') {
      log.warn(
        'embedded mode: events live in memory only and are lost on exit; use Kafka in production',
      );
    }
    const receiver = await startReceiver({ config, log });
    onShutdown(log, () => receiver.close());
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

program.parseAsync(process.argv).catch((err: unknown) => {
  const error = coerceError(err);
  // Config and argument errors are for a person: the message, not a stack.
  process.stderr.write(
    `changegate: ${error instanceof ChangegateError ? error.message : (error.stack ?? error.message)}\n`,
  );
  process.exitCode = error instanceof ChangegateError ? 2 : 1;
});
