/**
 * Everything a route needs, built once per sandbox.
 *
 * @module
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Auth } from './auth.js';
import type { OutboundDispatcher } from './business-rules.js';
import type { Faults } from './faults.js';
import type { Store } from './store.js';
import type { RequestLogEntry } from './types.js';

export interface SandboxContext {
  instanceName: string;
  store: Store;
  auth: Auth;
  faults: Faults;
  outbound: OutboundDispatcher;
  clock: () => Date;
  /** Bytes of each attachment by sys_id (metadata lives in the sys_attachment table). */
  attachments: Map<string, Uint8Array>;
  attachmentMaxBytes: number;
  /** Identification attributes per CI class for identifyreconcile (default `name`). */
  identificationRules: Record<string, string[]>;
  /** `glide.invalid_query.returns_no_rows`: a term on an unknown field empties the result. */
  invalidQueryReturnsNoRows: boolean;
  /** Roles that may read a table's rows; others see them filtered out (not refused). */
  readAcls: Record<string, string[]>;
  requestLog: RequestLogEntry[];
  /** Set once listening: `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /**
   * Business-rule work deferred until the current HTTP response is done, the way an async
   * business rule runs after the transaction. Outside a request the work runs at once.
   */
  deferred: AsyncLocalStorage<(() => void)[]>;
}

/** Run `fn` now, or after the current request's response when inside one. */
export function afterResponse(ctx: SandboxContext, fn: () => void): void {
  const queue = ctx.deferred.getStore();
  if (queue) queue.push(fn);
  else setImmediate(fn);
}
