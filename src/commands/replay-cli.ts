import { InvalidArgumentError, Option, type Command } from 'commander';
import { createBus } from '../bus/index.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import { parseFilter, replay } from './replay.js';

/**
 * The `changegate replay` command (logic in replay.ts). It reads Kafka topics from the
 * beginning, so it needs a broker: the embedded bus lives and dies with its process.
 *
 * @module
 */

/** The CLI's config loader (src/cli.ts `load`). */
export type Load = () => { config: Config; log: Logger };

function kafkaOnly(config: Config, what: string): void {
  if (config.bus !== 'kafka')
    throw new InvalidArgumentError(`${what} reads Kafka: set KAFKA_BROKERS`);
}

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a positive integer');
  return n;
};

/** Register `replay --from dlq [--filter …]… [--dry-run] [--limit N]`. */
export function registerReplayCommand(program: Command, load: Load): void {
  program
    .command('replay')
    .description('re-publish dead letters to their origin topic (each DLQ record at most once)')
    .addOption(
      new Option('--from <source>', 'where to replay from').choices(['dlq']).makeOptionMandatory(),
    )
    .option(
      '--filter <field=value|field~regex>',
      'only matching records (worker, type, error, key, topic); repeat to AND',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--dry-run', 'print what would be replayed, publish nothing')
    .addOption(new Option('--limit <n>', 'replay at most n records').argParser(positive))
    .action(async (opts: { filter: string[]; dryRun?: boolean; limit?: number }) => {
      const filters = opts.filter.map(parseFilter);
      const { config } = load();
      // Logs (kafkajs warnings included) go to stderr: stdout is the command's output.
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      kafkaOnly(config, 'replay');
      const bus = createBus(config, { log });
      try {
        await replay({
          bus,
          dlqTopic: config.kafka.topics.dlq,
          markerTopic: config.kafka.topics.dlqReplayed,
          filters,
          dryRun: opts.dryRun ?? false,
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          write: (line) => process.stdout.write(`${line}\n`),
        });
      } finally {
        await bus.close();
      }
    });
}
