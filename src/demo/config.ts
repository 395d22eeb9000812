import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';

/** Per-run secrets the demo plays GitHub and ServiceNow with (printed for `--keep-running`). */
export interface DemoSecrets {
  /** GitHub webhook secret (`X-Hub-Signature-256`). */
  github: string;
  /** Standard Webhooks secret of the ServiceNow business rule. */
  servicenow: string;
  /** OAuth client of the ServiceNow sandbox. */
  oauthClientId: string;
  oauthClientSecret: string;
}

/** Fresh secrets for one run: nothing fixed in code that could be mistaken for a real one. */
export function demoSecrets(): DemoSecrets {
  return {
    github: `demo-${randomBytes(12).toString('hex')}`,
    servicenow: `whsec_${randomBytes(32).toString('base64')}`,
    oauthClientId: 'changegate-demo',
    oauthClientSecret: randomBytes(16).toString('hex'),
  };
}

/** What the demo config needs from the emulators it runs next to. */
export interface DemoConfigInput {
  secrets: DemoSecrets;
  servicenowUrl: string;
  ci: { url: string; githubAppId: string; githubAppPrivateKey: string };
  /** changegate's HTTP port; 0 picks a free one. */
  port: number;
  logLevel: Config['log']['level'];
}

/**
 * The configuration `changegate demo` runs with: embedded bus, the sandbox as the only ServiceNow
 * connection, the CI emulator as GitHub, and change policies for `acme/*` → production. Built
 * here rather than read from a file or the environment, so the demo needs no setup and a
 * `CHANGEGATE_CONFIG` meant for a real instance can never leak into it.
 *
 * @throws ConfigError if the built config does not validate (a bug in this file).
 * @example demoConfig({ secrets: demoSecrets(), servicenowUrl, ci, port: 0, logLevel: 'silent' })
 */
export function demoConfig({
  secrets,
  servicenowUrl,
  ci,
  port,
  logLevel,
}: DemoConfigInput): Config {
  return loadConfig({
    env: {},
    overrides: (raw) => {
      Object.assign(raw, {
        bus: 'memory',
        server: { port, host: '127.0.0.1', shutdownGraceMs: 2_000 },
        log: { level: logLevel },
        sources: {
          github: { secrets: [secrets.github] },
          servicenow: { secrets: [secrets.servicenow] },
        },
        servicenow: {
          default: 'sandbox',
          connections: {
            sandbox: {
              url: servicenowUrl,
              auth: {
                type: 'oauth',
                clientId: secrets.oauthClientId,
                clientSecret: secrets.oauthClientSecret,
              },
              retry: { baseDelayMs: 50 },
            },
          },
        },
        changes: {
          policies: [
            {
              name: 'acme-production',
              match: { project: 'acme/*', environment: 'production' },
              mode: 'normal',
              // A failed production deployment closes its CR unsuccessful and opens a rollback CR.
              onFailure: 'follow-up',
            },
            { name: 'uncontrolled', match: {}, mode: 'none' },
          ],
        },
        cmdb: {
          policies: [
            {
              name: 'acme-production-applications',
              match: { project: 'acme/*', environment: 'production' },
              // An application CI is identified with the host it runs on (the sandbox seeds web-01).
              relations: [
                {
                  type: 'Runs on::Runs',
                  className: 'cmdb_ci_linux_server',
                  byEnvironment: { production: 'web-01' },
                },
              ],
            },
          ],
        },
        ci: {
          // The CI emulator listens on 127.0.0.1: loopback callbacks are allowed for the demo only.
          allowLoopback: true,
          github: { appId: ci.githubAppId, privateKey: ci.githubAppPrivateKey, apiUrl: ci.url },
        },
      });
    },
  });
}
