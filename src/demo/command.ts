import { InvalidArgumentError, type Command } from 'commander';
import { DemoError } from './errors.js';
import { colourWanted } from './paint.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

const nonNegativeInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number ≥ 0');
  return n;
};

interface DemoFlags {
  interactive?: boolean;
  keepRunning?: boolean;
  port?: number;
  approveAfter: number;
  timeout: number;
}

/**
 * Register `changegate demo`: everything in one process on the embedded bus, no config, no
 * Kafka. Exits 0 when the story completed, 1 with the failed step on stderr otherwise.
 * `LOG_LEVEL` turns changegate's JSON logs on (to stderr; stdout is the story).
 *
 * @example registerDemoCommand(program) // then: npm run demo -- --interactive
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run ServiceNow sandbox, CI emulator, receiver and workers in one process and walk through a gated deployment',
    )
    .option('--interactive', 'wait for you to approve the change request instead of approving it')
    .option(
      '--keep-running',
      'keep everything up afterwards and show how to send your own delivery',
    )
    .option('-p, --port <port>', 'changegate HTTP port (default: a free one)', nonNegativeInt)
    .option('--approve-after <ms>', 'pause before the demo approves the CR', nonNegativeInt, 1_500)
    .option('--timeout <ms>', 'longest wait for any one step', nonNegativeInt, 20_000)
    .action(async (flags: DemoFlags) => {
      const level = process.env.LOG_LEVEL;
      const logLevel: LogLevel = LOG_LEVELS.includes(level as LogLevel)
        ? (level as LogLevel)
        : 'silent';
      // Loaded on use: `changegate start` in production should not load the emulators.
      const { runDemo } = await import('./story.js');
      const { printTryItYourself } = await import('./keep-running.js');
      try {
        const { stack, narrator } = await runDemo({
          colour: colourWanted(process.stdout, process.env),
          interactive: flags.interactive ?? false,
          approveAfterMs: flags.approveAfter,
          timeoutMs: flags.timeout,
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          logLevel,
        });
        if (!flags.keepRunning) {
          narrator.detail(narrator.paint.green('demo complete'));
          await stack.close();
          return;
        }
        printTryItYourself(stack, narrator);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await stack.close();
      } catch (err) {
        if (!(err instanceof DemoError)) throw err;
        process.stderr.write(`\n${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
