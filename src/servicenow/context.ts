/**
 * What every part of one connection's client shares: where the instance is, how to reach it,
 * how to retry, and where to report calls.
 *
 * @module
 */
import type { Logger } from 'pino';
import type { AuthMode } from './errors.js';
import type { FetchImpl } from './http.js';
import type { RetryPolicy } from './retry.js';

/** One HTTP attempt against an instance, for latency/error metrics. */
export interface ServiceNowCall {
  /** Connection name (low cardinality, unlike the host). */
  instance: string;
  method: string;
  /** Templated path, e.g. `/api/now/table/{table}`; never contains sys_ids. */
  route: string;
  /** HTTP status, or 0 when no answer arrived (see `error`). */
  status: number;
  durationMs: number;
  /** Network failure phase when `status` is 0. */
  error?: string;
}

export interface ServiceNowMetrics {
  onCall(call: ServiceNowCall): void;
}

export interface ConnectionContext {
  name: string;
  baseUrl: string;
  /** `main (acme.service-now.com)`, for messages. */
  label: string;
  authMode: AuthMode;
  timeoutMs: number;
  policy: RetryPolicy;
  fetchImpl: FetchImpl;
  log: Logger;
  metrics?: ServiceNowMetrics | undefined;
  random: () => number;
  /** Wall-clock ms, for HTTP dates and token expiry. */
  now: () => number;
}

/** Report one call; a throwing metrics hook must never fail the ServiceNow call. */
export function reportCall(ctx: ConnectionContext, call: Omit<ServiceNowCall, 'instance'>): void {
  if (!ctx.metrics) return;
  try {
    ctx.metrics.onCall({ instance: ctx.name, ...call });
  } catch (err) {
    ctx.log.warn({ err }, 'servicenow metrics hook threw');
  }
}
