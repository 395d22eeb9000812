import type { TableApi } from '../../servicenow/index.js';

/**
 * Whether a record's work notes already hold `marker`. Journal entries live in
 * `sys_journal_field` (the record's work_notes reads back empty), so that is what is queried;
 * the integration user needs read access to it (an ACL of the install kit).
 */
export async function journalHas(
  table: TableApi,
  recordSysId: string,
  marker: string,
): Promise<boolean> {
  const hits = await table.query('sys_journal_field', {
    query: `element_id=${recordSysId}^element=work_notes^valueLIKE${marker}`,
    fields: ['sys_id'],
    limit: 1,
  });
  return hits.length > 0;
}

/**
 * How many of a record's work notes contain `marker` (up to `limit`): the failure count of an
 * incident is the number of changegate event notes on it, kept without any custom field.
 */
export async function journalCount(
  table: TableApi,
  recordSysId: string,
  marker: string,
  limit = 1000,
): Promise<number> {
  const hits = await table.query('sys_journal_field', {
    query: `element_id=${recordSysId}^element=work_notes^valueLIKE${marker}`,
    fields: ['sys_id'],
    limit,
  });
  return hits.length;
}
