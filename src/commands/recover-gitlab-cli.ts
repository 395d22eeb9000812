import { InvalidArgumentError, type Command } from 'commander';
import { createBus } from '../bus/index.js';
import { createLogger } from '../log.js';
import type { Load } from './replay-cli.js';
import { recoverGitlab } from './recover-gitlab.js';

/**
 * `changegate recover gitlab [--dry-run]` (logic in recover-gitlab.ts). It reads the gate state
 * from Kafka, so it needs a broker.
 *
 * @module
 */

/** `recover` may already exist (other providers register their own subcommand under it). */
function recoverCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'recover') ??
    program
      .command('recover')
      .description('find gates whose deliveries were missed, from the CI systems themselves')
  );
}

/** Register `recover gitlab`. */
export function registerRecoverGitlabCommand(program: Command, load: Load): void {
  recoverCommand(program)
    .command('gitlab')
    .description(
      'register the gates of deploy jobs GitLab holds for approval in ci.gitlab.<host>.projects',
    )
    .option('--dry-run', 'print what would be registered, publish nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      const { config } = load();
      // Logs go to stderr: stdout is the command's output.
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      if (config.bus !== 'kafka') {
        throw new InvalidArgumentError('recover gitlab reads Kafka: set KAFKA_BROKERS');
      }
      const bus = createBus(config, { log });
      try {
        const r = await recoverGitlab({
          config,
          bus,
          log,
          dryRun: opts.dryRun ?? false,
          write: (line) => process.stdout.write(`${line}\n`),
        });
        process.stdout.write(
          `${r.projects} projects, ${r.waiting} jobs waiting for approval, ` +
            `${r.registered} ${opts.dryRun ? 'to register' : 'registered'}, ${r.known} already gates\n`,
        );
      } finally {
        await bus.close();
      }
    });
}
