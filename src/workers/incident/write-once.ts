import { flattenRecord, type SnRecord } from '../../servicenow/flatten.js';
import { unwrapResult } from '../../servicenow/http.js';
import type { ServiceNowClient } from '../../servicenow/index.js';

/**
 * PATCH a record with fields that include a journal entry, sent at most once by the client:
 * a 5xx or a lost answer surfaces as a retryable error (maybe committed) instead of a silent
 * second PATCH that would write the work note twice. The worker's retry then re-reads the
 * journal, which tells whether this write landed.
 */
export async function patchOnce(
  client: ServiceNowClient,
  table: string,
  sysId: string,
  fields: Record<string, unknown>,
): Promise<SnRecord> {
  const res = await client.request({
    method: 'PATCH',
    path: `/api/now/table/${encodeURIComponent(table)}/${encodeURIComponent(sysId)}`,
    route: '/api/now/table/{table}/{sys_id}',
    table,
    json: fields,
    query: { sysparm_exclude_reference_link: true },
    idempotent: false,
  });
  return flattenRecord(unwrapResult(res.json));
}
