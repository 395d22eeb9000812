/**
 * One ServiceNow connection's client: Table, Change, Attachment and CMDB APIs over a shared
 * pipeline (rate limit, credentials, retries, typed errors, metrics).
 *
 * @module
 */
import type { Logger } from 'pino';
import type { ServiceNowConnection } from '../config/servicenow.js';
import { createAttachmentApi, type AttachmentApi } from './attachment.js';
import { createAuthenticator, authModeOf, type Authenticator } from './auth.js';
import { createChangeApi, type ChangeApi } from './change.js';
import { createChangeLifecycle, type ChangeLifecycle } from './change-lifecycle.js';
import { createCmdbApi, type CmdbApi } from './cmdb.js';
import type { ConnectionContext, ServiceNowMetrics } from './context.js';
import type { FetchImpl } from './http.js';
import { TokenBucket } from './rate-limit.js';
import { createRequester, type Requester } from './request.js';
import { createTableApi, type TableApi } from './table.js';

export interface ServiceNowClient {
  /** Connection name from the config. */
  readonly name: string;
  /** Instance base URL. */
  readonly url: string;
  readonly table: TableApi;
  readonly change: ChangeApi;
  /** Standard changes that stay findable; state walks along the instance's `nextstates`. */
  readonly lifecycle: ChangeLifecycle;
  readonly attachment: AttachmentApi;
  readonly cmdb: CmdbApi;
  /** The raw pipeline, for endpoints the typed APIs do not cover yet. */
  readonly request: Requester;
  /** The credentials in use (token requests count, for diagnostics). */
  readonly auth: Authenticator;
}

export interface ServiceNowClientOptions {
  log: Logger;
  metrics?: ServiceNowMetrics | undefined;
  /** Connection name used in messages and metrics; defaults to the host. */
  name?: string | undefined;
  fetchImpl?: FetchImpl | undefined;
  /** For tests: deterministic jitter. */
  random?: () => number;
}

/**
 * Create the client of one connection. Nothing is sent until the first call.
 * @throws RangeError when the rate-limit settings are not positive.
 * @example
 * const sn = createServiceNowClient(config.servicenow.connections.main, { log });
 * const change = await sn.change.createNormal({ short_description: 'Deploy api 1.4' }, { correlationId: deliveryId });
 */
export function createServiceNowClient(
  connection: ServiceNowConnection,
  { log, metrics, name, fetchImpl = fetch, random = Math.random }: ServiceNowClientOptions,
): ServiceNowClient {
  const host = new URL(connection.url).host;
  const connectionName = name ?? host;
  const ctx: ConnectionContext = {
    name: connectionName,
    baseUrl: connection.url,
    label: name ? `${name} (${host})` : host,
    authMode: authModeOf(connection.auth),
    timeoutMs: connection.timeoutMs,
    policy: { maxRetries: connection.maxRetries, ...connection.retry },
    fetchImpl,
    log: log.child({ servicenow: connectionName }),
    metrics,
    random,
    now: Date.now,
  };
  const auth = createAuthenticator(connection.auth, ctx, {
    refreshSkewMs: connection.tokenRefreshSkewMs,
  });
  const bucket = new TokenBucket(connection.rateLimit);
  const request = createRequester(ctx, auth, bucket);
  const table = createTableApi(request, ctx);
  const change = createChangeApi(request, ctx, table);
  return {
    name: connectionName,
    url: connection.url,
    table,
    change,
    lifecycle: createChangeLifecycle({ change, table }, ctx),
    attachment: createAttachmentApi(request),
    cmdb: createCmdbApi(request),
    request,
    auth,
  };
}
