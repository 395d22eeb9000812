import { InvalidArgumentError, type Command } from 'commander';
import { createBus } from '../bus/index.js';
import { topicSpecs } from '../bus/topics.js';
import { createInstallationTokens } from '../providers/github/app.js';
import { createGithubAppHooks } from '../providers/github/app-hooks.js';
import { createLogger } from '../log.js';
import { busRecoveryPoints, parseSince, recoverGithub } from './recover-github.js';
import type { Load } from './replay-cli.js';

/**
 * `changegate recover github [--since …] [--dry-run]` (logic in recover-github.ts). The point
 * lives on Kafka (`kafka.topics.recovery`): the embedded bus would forget it with the process.
 *
 * @module
 */

/** Register `recover github`. */
export function registerRecoverCommand(program: Command, load: Load): void {
  const recover = program
    .command('recover')
    .description('ask a sender to redeliver what did not reach changegate');
  recover
    .command('github')
    .description(
      "redeliver the GitHub App's failed webhook deliveries since the last recovered point",
    )
    .option('--since <time>', 'start here instead of the stored point: ISO time or 90m / 6h / 3d')
    .option('--dry-run', 'list what would be redelivered; redeliver nothing, keep the point')
    .action(async (opts: { since?: string; dryRun?: boolean }) => {
      let sinceMs: number | undefined;
      try {
        sinceMs = opts.since === undefined ? undefined : parseSince(opts.since);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      const { config } = load();
      const github = config.ci.github;
      if (!github)
        throw new InvalidArgumentError('recover github needs ci.github (appId, privateKey)');
      if (config.bus !== 'kafka')
        throw new InvalidArgumentError('recover keeps its point on Kafka: set KAFKA_BROKERS');
      // Logs go to stderr: stdout is the command's one JSON line.
      const log = createLogger({ level: config.log.level, destination: process.stderr });
      const http = { fetchImpl: fetch, timeoutMs: config.ci.timeoutMs };
      const tokens = createInstallationTokens(github, http);
      const bus = createBus(config, { log });
      try {
        await bus.ensureTopics(
          topicSpecs(config.kafka).filter((t) => t.topic === config.kafka.topics.recovery),
        );
        const summary = await recoverGithub({
          hooks: createGithubAppHooks(github, { ...http, appJwt: () => tokens.appJwt() }),
          points: busRecoveryPoints(bus, config.kafka.topics.recovery),
          sinceMs,
          dryRun: opts.dryRun ?? false,
        });
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        await bus.close();
      }
    });
}
