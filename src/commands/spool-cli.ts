import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { spoolDir } from '../spool/dir.js';
import { formatSpoolReport, inspectSpool } from '../spool/inspect.js';

/**
 * Register `changegate spool inspect [--dir <dir>]`: what a receiver's spool holds (deliveries
 * waiting, the oldest, bytes), read without taking the directory, so it is safe while the
 * receiver runs. The directory defaults to the one `start` would use with the same config.
 */
export function registerSpoolCommands(program: Command, loadConfig: () => Config): void {
  program
    .command('spool')
    .description("the receiver's durable spool (deliveries accepted while Kafka was unavailable)")
    .command('inspect')
    .description('count, oldest and size of what waits in the spool')
    .option('--dir <dir>', 'spool directory (default: ingest.spool.dir of the config)')
    .option('--json', 'print JSON instead of lines')
    .action(async (opts: { dir?: string; json?: boolean }) => {
      const dir = opts.dir ?? configuredDir(loadConfig());
      if (!existsSync(dir)) {
        process.stdout.write(`no spool at ${dir} (nothing was ever spooled there)\n`);
        return;
      }
      const report = await inspectSpool(dir);
      process.stdout.write(
        opts.json ? `${JSON.stringify(report)}\n` : `${formatSpoolReport(report)}\n`,
      );
    });
}

function configuredDir(config: Config): string {
  if (!config.ingest.spool.dir && (config.bus === 'memory' || config.server.port === 0)) {
    throw new Error('this receiver spools to a temporary directory; pass --dir');
  }
  return spoolDir(config).dir;
}
