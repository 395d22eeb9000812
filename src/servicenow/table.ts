/**
 * Table API (`/api/now/table/{table}`): read by sys_id, query, create, patch, work notes.
 *
 * @module
 */
import type { ConnectionContext } from './context.js';
import { assertCorrelationId, createWithCorrelation } from './correlated-create.js';
import { flattenRecord, flattenRecords, type SnRecord } from './flatten.js';
import { unwrapResult } from './http.js';
import type { Requester } from './request.js';

const ROUTE = '/api/now/table/{table}';
const ROUTE_ID = '/api/now/table/{table}/{sys_id}';

export interface ReadOptions {
  fields?: string[] | undefined;
  /** true: display values (e.g. state "Assess"); false (default): raw values ("-4"). */
  displayValue?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface QueryOptions extends ReadOptions {
  /** Encoded query, e.g. `active=true^state=-1^ORDERBYDESCsys_updated_on`. */
  query?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface CreateOptions {
  /** External key written to `correlation_id`; makes the create safe to retry (see correlated-create). */
  correlationId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface TableApi {
  /** @throws ServiceNowError kind `not_found` when there is no such record. */
  get(table: string, sysId: string, options?: ReadOptions): Promise<SnRecord>;
  query(table: string, options?: QueryOptions): Promise<SnRecord[]>;
  findByCorrelationId(
    table: string,
    correlationId: string,
    options?: ReadOptions,
  ): Promise<SnRecord | undefined>;
  create(
    table: string,
    fields: Record<string, unknown>,
    options?: CreateOptions,
  ): Promise<SnRecord>;
  patch(
    table: string,
    sysId: string,
    fields: Record<string, unknown>,
    options?: { signal?: AbortSignal },
  ): Promise<SnRecord>;
  /** Append a journal entry; never retried once it may have been sent (it would be written twice). */
  addWorkNote(
    table: string,
    sysId: string,
    note: string,
    options?: { signal?: AbortSignal },
  ): Promise<SnRecord>;
}

const readParams = (o: ReadOptions | undefined) => ({
  sysparm_fields: o?.fields?.join(','),
  sysparm_display_value: o?.displayValue ?? false,
  sysparm_exclude_reference_link: true,
});

/** The Table API of one connection. */
export function createTableApi(request: Requester, ctx: ConnectionContext): TableApi {
  const seg = encodeURIComponent;
  const api: TableApi = {
    async get(table, sysId, options) {
      const res = await request({
        method: 'GET',
        path: `/api/now/table/${seg(table)}/${seg(sysId)}`,
        route: ROUTE_ID,
        table,
        query: readParams(options),
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    async query(table, options) {
      const res = await request({
        method: 'GET',
        path: `/api/now/table/${seg(table)}`,
        route: ROUTE,
        table,
        query: {
          ...readParams(options),
          sysparm_query: options?.query,
          sysparm_limit: options?.limit ?? 100,
          sysparm_offset: options?.offset,
        },
        signal: options?.signal,
      });
      return flattenRecords(unwrapResult(res.json));
    },
    async findByCorrelationId(table, correlationId, options) {
      assertCorrelationId(correlationId);
      const [first] = await api.query(table, {
        ...options,
        query: `correlation_id=${correlationId}^ORDERBYsys_created_on`,
        limit: 1,
      });
      return first;
    },
    async create(table, fields, options) {
      const correlationId = options?.correlationId;
      if (correlationId !== undefined) assertCorrelationId(correlationId);
      const body =
        correlationId === undefined ? fields : { ...fields, correlation_id: correlationId };
      return createWithCorrelation({
        correlationId,
        post: async () => {
          const res = await request({
            method: 'POST',
            path: `/api/now/table/${seg(table)}`,
            route: ROUTE,
            table,
            json: body,
            query: { sysparm_exclude_reference_link: true },
            signal: options?.signal,
          });
          return flattenRecord(unwrapResult(res.json));
        },
        lookup: () => api.findByCorrelationId(table, correlationId ?? ''),
        policy: ctx.policy,
        log: ctx.log,
        random: ctx.random,
        signal: options?.signal,
      });
    },
    async patch(table, sysId, fields, options) {
      const res = await request({
        method: 'PATCH',
        path: `/api/now/table/${seg(table)}/${seg(sysId)}`,
        route: ROUTE_ID,
        table,
        json: fields,
        query: { sysparm_exclude_reference_link: true },
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    async addWorkNote(table, sysId, note, options) {
      const res = await request({
        method: 'PATCH',
        path: `/api/now/table/${seg(table)}/${seg(sysId)}`,
        route: ROUTE_ID,
        table,
        json: { work_notes: note },
        query: { sysparm_exclude_reference_link: true },
        idempotent: false,
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
  };
  return api;
}
