/**
 * `changegate sandbox ci`: run the CI emulator as a process, for end-to-end tests, the demo and
 * benchmarks that drive changegate from outside. The admin API (`/_emulator/*`, see admin.ts)
 * lives on the same port.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { EMULATOR_ADMIN_PREFIX } from './admin.js';
import { startCiEmulator, type CiEmulatorOptions } from './index.js';

/** What `sandbox ci` prints once listening: one JSON line, for scripts. */
export interface CiEmulatorAnnouncement {
  url: string;
  admin: string;
  credentials: {
    githubAppId: string;
    githubAppPrivateKey?: string;
    gitlabToken: string;
    jenkinsUser: string;
    jenkinsToken: string;
    genericSecret: string;
  };
}

interface CiCommandOptions {
  port: string;
  githubAppId?: string;
  githubAppPublicKeyFile?: string;
  gitlabToken?: string;
  jenkinsUser?: string;
  jenkinsToken?: string;
  jenkinsRequireCrumb?: boolean;
  jenkinsContextPath?: string;
  azureMaxApiVersion?: string;
  genericSecret?: string;
}

// Same lookup as the ServiceNow sandbox commands, so both land under one `sandbox` command
// whichever registers first.
function sandboxCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'sandbox') ??
    program
      .command('sandbox')
      .description('Local emulators for ServiceNow and CI systems (tests, demo)')
  );
}

function toOptions(o: CiCommandOptions): CiEmulatorOptions {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`--port ${o.port} is not a port number`);
  return {
    port,
    ...(o.githubAppId ? { githubAppId: o.githubAppId } : {}),
    ...(o.githubAppPublicKeyFile
      ? { githubAppPublicKey: readFileSync(o.githubAppPublicKeyFile, 'utf8') }
      : {}),
    ...(o.gitlabToken ? { gitlabToken: o.gitlabToken } : {}),
    ...(o.jenkinsUser ? { jenkinsUser: o.jenkinsUser } : {}),
    ...(o.jenkinsToken ? { jenkinsToken: o.jenkinsToken } : {}),
    ...(o.jenkinsRequireCrumb ? { jenkinsRequireCrumb: true } : {}),
    ...(o.jenkinsContextPath ? { jenkinsContextPath: o.jenkinsContextPath } : {}),
    ...(o.azureMaxApiVersion ? { azureMaxApiVersion: o.azureMaxApiVersion } : {}),
    ...(o.genericSecret ? { genericSecret: o.genericSecret } : {}),
  };
}

/**
 * Register `sandbox ci`: runs GitHub, GitLab, Azure DevOps, Jenkins and generic emulators on one
 * port until SIGINT/SIGTERM and prints a {@link CiEmulatorAnnouncement} line on stdout (the
 * generated GitHub App private key included, so changegate can be configured from it).
 * @example registerCiEmulatorCommands(program) // then: changegate sandbox ci --port 8090
 */
export function registerCiEmulatorCommands(program: Command): void {
  sandboxCommand(program)
    .command('ci')
    .description(
      `Run the CI emulators (GitHub, GitLab, Azure DevOps, Jenkins, generic) until SIGINT/SIGTERM; admin API under ${EMULATOR_ADMIN_PREFIX}`,
    )
    .option('--port <n>', 'port to listen on (0: a free one); binds 127.0.0.1 only', '0')
    .option('--github-app-id <id>', 'GitHub App id the App JWTs must name (default 424242)')
    .option(
      '--github-app-public-key-file <pem>',
      'SPKI PEM of the App key (default: generate a key pair and print the private key)',
    )
    .option('--gitlab-token <token>', 'GitLab token accepted by the approval API (default: random)')
    .option('--jenkins-user <user>', 'Jenkins user (default changegate)')
    .option('--jenkins-token <token>', 'Jenkins API token (default: random)')
    .option('--jenkins-require-crumb', 'demand the CSRF crumb flow on Jenkins POSTs')
    .option('--jenkins-context-path <path>', 'serve Jenkins under a context path, e.g. /jenkins')
    .option(
      '--azure-max-api-version <v>',
      'play an Azure DevOps Server with this highest REST API version (6.0: Server 2020, 7.0: Server 2022)',
    )
    .option('--generic-secret <whsec>', 'Standard Webhooks secret of generic callbacks')
    .action(async (o: CiCommandOptions) => {
      const ci = await startCiEmulator(toOptions(o));
      const announcement: CiEmulatorAnnouncement = {
        url: ci.url,
        admin: `${ci.url}${EMULATOR_ADMIN_PREFIX}`,
        credentials: ci.credentials,
      };
      process.stdout.write(`${JSON.stringify(announcement)}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await ci.close();
    });
}
