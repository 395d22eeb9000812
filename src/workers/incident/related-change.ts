import type { SnRecord, TableApi } from '../../servicenow/index.js';

export interface ChangeRef {
  provider: string;
  project: string;
  /** A CR number the pipeline named. */
  changeNumber?: string | undefined;
  /** The deployment's correlation id, which the change worker writes to its CR. */
  correlationId?: string | undefined;
  commitSha?: string | undefined;
}

const SAFE = /^[^^\r\n]{1,100}$/;

/**
 * The change request a deployment belongs to: the one the pipeline named, else the one the
 * change worker created for it (`correlation_id` per deployment, or per release when policies
 * reuse one CR across environments). Undefined when there is none.
 */
export async function findRelatedChange(
  table: TableApi,
  ref: ChangeRef,
): Promise<SnRecord | undefined> {
  const queries: string[] = [];
  if (ref.changeNumber && SAFE.test(ref.changeNumber)) queries.push(`number=${ref.changeNumber}`);
  if (ref.correlationId && SAFE.test(ref.correlationId))
    queries.push(`correlation_id=${ref.correlationId}`);
  const release = ref.commitSha ? `${ref.provider}/${ref.project}/release-${ref.commitSha}` : '';
  if (release && SAFE.test(release)) queries.push(`correlation_id=${release}`);
  for (const query of queries) {
    const [cr] = await table.query('change_request', {
      query: `${query}^ORDERBYDESCsys_created_on`,
      fields: ['sys_id', 'number', 'state', 'correlation_id'],
      limit: 1,
    });
    if (cr?.sys_id) return cr;
  }
  return undefined;
}
