/**
 * Shared set-up for the ServiceNow client tests: a real sandbox over HTTP and a client for it.
 */
import pino from 'pino';
import {
  ServiceNowConnectionSchema,
  type ServiceNowConnectionInput,
} from '../../../src/config/servicenow.js';
import { createServiceNowClient, type ServiceNowClient } from '../../../src/servicenow/index.js';
import type { ServiceNowCall } from '../../../src/servicenow/index.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandboxOptions,
} from '../../../src/sandbox/servicenow/index.js';

export type Sandbox = Awaited<ReturnType<typeof startServiceNowSandbox>>;

export const OAUTH = { clientId: 'changegate-client', clientSecret: 'changegate-secret' };
export const USER = { username: 'changegate.integration', password: 'changegate' };

export const silent = pino({ level: 'silent' });

export function startSandbox(opts: ServiceNowSandboxOptions = {}): Promise<Sandbox> {
  return startServiceNowSandbox({ oauth: OAUTH, ...opts });
}

/** Fast retries so fault tests take milliseconds, not seconds. */
export function connection(
  url: string,
  overrides: Partial<ServiceNowConnectionInput> = {},
): ReturnType<typeof ServiceNowConnectionSchema.parse> {
  return ServiceNowConnectionSchema.parse({
    url,
    auth: { type: 'oauth', ...OAUTH },
    timeoutMs: 5000,
    maxRetries: 4,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
    rateLimit: { requestsPerSecond: 1000, burst: 1000 },
    ...overrides,
  });
}

export function client(
  url: string,
  overrides: Partial<ServiceNowConnectionInput> = {},
  calls: ServiceNowCall[] = [],
): ServiceNowClient {
  return createServiceNowClient(connection(url, overrides), {
    log: silent,
    name: 'sandbox',
    metrics: { onCall: (c) => calls.push(c) },
  });
}

export function requestsTo(sandbox: Sandbox, path: string, method?: string) {
  return sandbox.admin
    .requests()
    .filter((r) => r.path === path && (method === undefined || r.method === method));
}
