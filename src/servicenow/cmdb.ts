/**
 * CMDB writes through the Identification and Reconciliation API (`/api/now/identifyreconcile`),
 * which matches CIs by identification rules instead of inserting blindly. Needs itil or asset.
 *
 * @module
 */
import { unwrapResult } from './http.js';
import type { Requester } from './request.js';

export interface CmdbItem {
  /** CI class (sys_class_name), e.g. `cmdb_ci_appl`. */
  className: string;
  values: Record<string, unknown>;
  lookup?: Array<{ className: string; values: Record<string, unknown> }> | undefined;
}

export interface CmdbRelation {
  /** Index into `items`. */
  parent: number;
  child: number;
  /** A cmdb_rel_type name, e.g. `Runs on::Runs`. */
  type: string;
}

export interface ReconciledItem {
  className: string;
  /** `INSERT` | `UPDATE` | `NO_CHANGE` | ...; undefined when the item failed. */
  operation: string | undefined;
  sysId: string | undefined;
  errors: Array<{ error?: string; message?: string }>;
}

export interface ReconcileResult {
  items: ReconciledItem[];
  relations: unknown[];
}

export interface CmdbApi {
  /**
   * Insert or update CIs and their relations. Safe to retry: reconciliation identifies the CI it
   * already created instead of creating a second one.
   * @param options.dryRun use `/identifyreconcile/query`: report what would happen, commit nothing.
   */
  identifyReconcile(
    payload: { items: CmdbItem[]; relations?: CmdbRelation[] },
    options?: { dataSource?: string; dryRun?: boolean; signal?: AbortSignal },
  ): Promise<ReconcileResult>;
}

function item(raw: unknown): ReconciledItem {
  const o = (raw ?? {}) as Record<string, unknown>;
  const sysId = typeof o.sysId === 'string' && o.sysId !== 'Unknown' ? o.sysId : undefined;
  return {
    className: typeof o.className === 'string' ? o.className : '',
    operation: typeof o.operation === 'string' ? o.operation : undefined,
    sysId,
    errors: Array.isArray(o.errors) ? (o.errors as ReconciledItem['errors']) : [],
  };
}

/** The CMDB API of one connection. */
export function createCmdbApi(request: Requester): CmdbApi {
  return {
    async identifyReconcile(payload, options) {
      const path = options?.dryRun
        ? '/api/now/identifyreconcile/query'
        : '/api/now/identifyreconcile';
      const res = await request({
        method: 'POST',
        path,
        route: path,
        table: 'cmdb_ci',
        query: { sysparm_data_source: options?.dataSource },
        json: { items: payload.items, relations: payload.relations ?? [] },
        idempotent: true,
        signal: options?.signal,
      });
      const result = (unwrapResult(res.json) ?? {}) as { items?: unknown[]; relations?: unknown[] };
      return {
        items: (result.items ?? []).map(item),
        relations: result.relations ?? [],
      };
    },
  };
}
