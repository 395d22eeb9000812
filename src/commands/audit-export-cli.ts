import { InvalidArgumentError, Option, type Command } from 'commander';
import { createBus } from '../bus/index.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../log.js';
import type { LineageSelector } from '../audit/lineage.js';
import { auditKeyFromConfig } from '../audit/signing.js';
import { auditExport } from './audit-export.js';

/**
 * The `changegate audit export` command (logic in audit-export.ts). It reads the ledger topic
 * from the beginning, so it needs a broker: the embedded bus lives and dies with its process.
 *
 * @module
 */

/** The CLI's config loader (src/cli.ts `load`). */
export type Load = () => { config: Config; log: Logger };

function kafkaOnly(config: Config, what: string): void {
  if (config.bus !== 'kafka')
    throw new InvalidArgumentError(`${what} reads Kafka: set KAFKA_BROKERS`);
}

/** Register `audit export --change CHG… | --correlation … | --since <ISO> [--format json|csv]`. */
export function registerAuditCommands(program: Command, load: Load): void {
  const audit = program.command('audit').description('the signed, hash-chained audit ledger');
  audit
    .command('export')
    .description('print the verified lineage of a deployment from the audit ledger')
    .option('--change <number>', 'one change request, e.g. CHG0010001')
    .option('--correlation <id>', 'one deployment, e.g. github/acme/payments/run-42-production')
    .option('--since <iso>', 'every entry at or after this time')
    .option(
      '--checkpoint <file>',
      'verify against this checkpoint file (from write-once storage) instead of the checkpoint topic; repeat it for the file of every ledger replica',
      (file: string, files: string[]) => [...files, file],
      [] as string[],
    )
    .addOption(new Option('--format <format>', 'output').choices(['json', 'csv']).default('json'))
    .action(
      async (opts: {
        change?: string;
        correlation?: string;
        since?: string;
        checkpoint: string[];
        format: 'json' | 'csv';
      }) => {
        const given = [opts.change, opts.correlation, opts.since].filter((v) => v !== undefined);
        if (given.length !== 1) {
          throw new InvalidArgumentError('give exactly one of --change, --correlation, --since');
        }
        let selector: LineageSelector;
        if (opts.change) selector = { change: opts.change };
        else if (opts.correlation) selector = { correlation: opts.correlation };
        else {
          const since = new Date(opts.since!);
          if (Number.isNaN(since.getTime()))
            throw new InvalidArgumentError('--since: not an ISO time');
          selector = { since };
        }
        const { config } = load();
        // Logs (kafkajs warnings included) go to stderr: stdout is the command's output.
        const log = createLogger({ level: config.log.level, destination: process.stderr });
        kafkaOnly(config, 'audit export');
        const bus = createBus(config, { log });
        try {
          const result = await auditExport({
            bus,
            ledgerTopic: config.kafka.topics.auditLedger,
            checkpointTopic: config.kafka.topics.auditCheckpoints,
            checkpointFiles: opts.checkpoint,
            key: auditKeyFromConfig(config),
            selector,
            format: opts.format,
            write: (text) => process.stdout.write(text),
            warn: (text) => process.stderr.write(text),
          });
          process.exitCode = result.exitCode;
        } finally {
          await bus.close();
        }
      },
    );
}
