/**
 * Change Management REST API (`/api/sn_chg_rest/change`, plugin com.snc.change_management.rest_api):
 * create normal/emergency/standard changes, read, update, approvals. Its answers carry each field
 * as `{value, display_value}`; they are flattened to plain value records.
 *
 * @module
 */
import type { ConnectionContext } from './context.js';
import { assertCorrelationId, createWithCorrelation } from './correlated-create.js';
import { flattenRecord, type SnRecord } from './flatten.js';
import { unwrapResult } from './http.js';
import type { Requester } from './request.js';
import type { CreateOptions, TableApi } from './table.js';

export type ChangeType = 'normal' | 'emergency' | 'standard';

export interface ApprovalDecision {
  state: 'approved' | 'rejected';
  comments?: string | undefined;
}

export interface ChangeApi {
  createNormal(fields: Record<string, unknown>, options?: CreateOptions): Promise<SnRecord>;
  createEmergency(fields: Record<string, unknown>, options?: CreateOptions): Promise<SnRecord>;
  /**
   * From a published standard change template (`std_change_record_producer` sys_id). One plain
   * POST: the API ignores fields the template lacks, correlation_id included, so there is no
   * correlation id to send or recover by — `createStandardChange` (change-lifecycle.ts) makes
   * the result findable.
   */
  createStandard(
    templateId: string,
    fields: Record<string, unknown>,
    options?: { signal?: AbortSignal },
  ): Promise<SnRecord>;
  /** @throws ServiceNowError kind `not_found` when there is no such change. */
  get(sysId: string, options?: { signal?: AbortSignal }): Promise<SnRecord>;
  /** Same fields with display values (state "Assess" rather than "-4"). */
  getDisplay(sysId: string, options?: { signal?: AbortSignal }): Promise<SnRecord>;
  /** `type` selects `PATCH /change/{type}/{sys_id}`; without it the type-agnostic path is used. */
  patch(
    sysId: string,
    fields: Record<string, unknown>,
    options?: { type?: ChangeType; signal?: AbortSignal },
  ): Promise<SnRecord>;
  /** Approve or reject on behalf of the integration user (it must be an approver). */
  decideApproval(
    sysId: string,
    decision: ApprovalDecision,
    options?: { signal?: AbortSignal },
  ): Promise<SnRecord>;
  /** States the change may move to next (`GET /change/{sys_id}/nextstates`). */
  nextStates(sysId: string, options?: { signal?: AbortSignal }): Promise<unknown>;
}

const BASE = '/api/sn_chg_rest/change';
const TABLE = 'change_request';

/** The sn_chg_rest API of one connection; `table` serves the correlation-id lookups. */
export function createChangeApi(
  request: Requester,
  ctx: ConnectionContext,
  table: TableApi,
): ChangeApi {
  const seg = encodeURIComponent;

  function create(
    path: string,
    route: string,
    fields: Record<string, unknown>,
    options?: CreateOptions,
  ) {
    const correlationId = options?.correlationId;
    if (correlationId !== undefined) assertCorrelationId(correlationId);
    const body =
      correlationId === undefined ? fields : { ...fields, correlation_id: correlationId };
    return createWithCorrelation({
      correlationId,
      post: async () => {
        const res = await request({
          method: 'POST',
          path,
          route,
          table: TABLE,
          json: body,
          signal: options?.signal,
        });
        return flattenRecord(unwrapResult(res.json));
      },
      // The sn_chg_rest record is a change_request row, so the Table API can find it.
      lookup: () => table.findByCorrelationId(TABLE, correlationId ?? ''),
      policy: ctx.policy,
      log: ctx.log,
      random: ctx.random,
      signal: options?.signal,
    });
  }

  async function read(sysId: string, prefer: 'value' | 'display_value', signal?: AbortSignal) {
    const res = await request({
      method: 'GET',
      path: `${BASE}/${seg(sysId)}`,
      route: `${BASE}/{sys_id}`,
      table: TABLE,
      signal,
    });
    return flattenRecord(unwrapResult(res.json), prefer);
  }

  return {
    createNormal: (fields, options) => create(`${BASE}/normal`, `${BASE}/normal`, fields, options),
    createEmergency: (fields, options) =>
      create(`${BASE}/emergency`, `${BASE}/emergency`, fields, options),
    async createStandard(templateId, fields, options) {
      const res = await request({
        method: 'POST',
        path: `${BASE}/standard/${seg(templateId)}`,
        route: `${BASE}/standard/{template}`,
        table: TABLE,
        json: fields,
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    get: (sysId, options) => read(sysId, 'value', options?.signal),
    getDisplay: (sysId, options) => read(sysId, 'display_value', options?.signal),
    async patch(sysId, fields, options) {
      const type = options?.type;
      const res = await request({
        method: 'PATCH',
        path: type ? `${BASE}/${type}/${seg(sysId)}` : `${BASE}/${seg(sysId)}`,
        route: type ? `${BASE}/${type}/{sys_id}` : `${BASE}/{sys_id}`,
        table: TABLE,
        json: fields,
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    async decideApproval(sysId, decision, options) {
      const res = await request({
        method: 'PATCH',
        path: `${BASE}/${seg(sysId)}/approvals`,
        route: `${BASE}/{sys_id}/approvals`,
        table: TABLE,
        json: {
          state: decision.state,
          ...(decision.comments ? { comments: decision.comments } : {}),
        },
        signal: options?.signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    async nextStates(sysId, options) {
      const res = await request({
        method: 'GET',
        path: `${BASE}/${seg(sysId)}/nextstates`,
        route: `${BASE}/{sys_id}/nextstates`,
        table: TABLE,
        signal: options?.signal,
      });
      return unwrapResult(res.json);
    },
  };
}
