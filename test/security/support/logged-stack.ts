import { createBus } from '../../../src/bus/index.js';
import type { Bus } from '../../../src/bus/port.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config, ConfigInput } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { startReceiver, type ReceiverRuntime } from '../../../src/runtime/receiver.js';
import { startWorkers, type WorkersRuntime } from '../../../src/runtime/workers.js';
import { startCiEmulator, type CiEmulator } from '../../../src/sandbox/ci/index.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
} from '../../../src/sandbox/servicenow/index.js';
import { SECRETS } from '../../support/stack.js';

/**
 * The one-process stack of test/support/stack.ts, with two differences the security tests need:
 * every log line of receiver and workers is captured (level trace), and every credential
 * changegate sends or is handed over HTTP (Authorization and token headers, OAuth and App
 * installation tokens in responses) is recorded, so a test can grep the logs for all of them.
 */
export interface LoggedStack {
  config: Config;
  bus: Bus;
  receiver: ReceiverRuntime;
  workers: WorkersRuntime;
  servicenow: ServiceNowSandbox;
  ci: CiEmulator;
  /** Every log line written so far (JSON, one per entry). */
  logs(): string[];
  /** Credentials seen on the wire so far (request headers and token responses). */
  wireSecrets(): Set<string>;
  close(): Promise<void>;
}

const CREDENTIAL_HEADERS = ['authorization', 'private-token', 'x-gitlab-token', 'authtoken'];

export async function startLoggedStack(extra: Partial<ConfigInput> = {}): Promise<LoggedStack> {
  const servicenow = await startServiceNowSandbox({
    oauth: { clientId: 'changegate', clientSecret: 'sandbox-oauth-secret-4711' },
  });
  const ci = await startCiEmulator();
  const config = loadConfig({
    env: {},
    overrides: (raw) =>
      Object.assign(raw, {
        bus: 'memory',
        server: { port: 0, host: '127.0.0.1' },
        log: { level: 'trace' },
        sources: {
          github: { secrets: [SECRETS.github] },
          gitlab: { tokens: [SECRETS.gitlab] },
          jenkins: { secrets: [SECRETS.whsec] },
          azureDevops: { basic: [SECRETS.azureBasic] },
          servicenow: { secrets: [SECRETS.whsec] },
          generic: { '*': { secrets: [SECRETS.whsec] } },
        },
        servicenow: {
          connections: {
            main: {
              url: servicenow.url,
              auth: {
                type: 'oauth',
                clientId: 'changegate',
                clientSecret: 'sandbox-oauth-secret-4711',
              },
              retry: { baseDelayMs: 20 },
            },
          },
        },
        ci: {
          allowLoopback: true,
          github: {
            appId: ci.credentials.githubAppId,
            privateKey: ci.credentials.githubAppPrivateKey,
            apiUrl: ci.url,
          },
          gitlab: { [new URL(ci.url).host]: { token: ci.credentials.gitlabToken } },
          jenkins: {
            [new URL(ci.url).host]: {
              user: ci.credentials.jenkinsUser,
              apiToken: ci.credentials.jenkinsToken,
            },
          },
          generic: { secret: ci.credentials.genericSecret },
        },
        ...extra,
      }),
  });
  const lines: string[] = [];
  const log = createLogger({
    level: config.log.level,
    destination: { write: (chunk: string) => void lines.push(chunk) },
  });
  const seen = new Set<string>();
  const recordingFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    for (const name of CREDENTIAL_HEADERS) {
      const value = headers.get(name);
      if (!value) continue;
      seen.add(value);
      const [, credential] = value.split(' ');
      if (credential) seen.add(credential);
    }
    const response = await fetch(input, init);
    if (response.headers.get('content-type')?.includes('json')) {
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as Record<string, unknown> | undefined;
      for (const field of ['access_token', 'refresh_token', 'token']) {
        if (typeof body?.[field] === 'string') seen.add(body[field]);
      }
    }
    return response;
  };
  const metrics = createMetrics({ defaults: false });
  const bus = createBus(config, { log });
  const receiver = await startReceiver({ config, log, bus, metrics });
  const workers = await startWorkers({
    config,
    log,
    bus,
    metrics,
    names: ['change', 'gate'],
    fetchImpl: recordingFetch,
  });
  servicenow.admin.outbound.set([
    { url: `${receiver.url}/hooks/servicenow`, secret: SECRETS.whsec },
  ]);
  return {
    config,
    bus,
    receiver,
    workers,
    servicenow,
    ci,
    logs: () => lines.join('').split('\n').filter(Boolean),
    wireSecrets: () => seen,
    async close() {
      await receiver.close();
      await workers.close();
      await bus.close();
      await ci.close();
      await servicenow.close();
    },
  };
}
