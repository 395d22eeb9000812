/**
 * How records go over the wire: the Table API's value / display_value / reference-link forms
 * and the Change Management API's `{field: {value, display_value}}` form.
 *
 * @module
 */
import { APPROVAL_LABELS, CLOSE_CODES, STATE_LABELS } from './change-model.js';
import type { SandboxContext } from './context.js';
import type { SnRecord } from './types.js';

const REFERENCES: Readonly<Record<string, string>> = {
  assignment_group: 'sys_user_group',
  assigned_to: 'sys_user',
  caller_id: 'sys_user',
  opened_by: 'sys_user',
  requested_by: 'sys_user',
  closed_by: 'sys_user',
  resolved_by: 'sys_user',
  cmdb_ci: 'cmdb_ci',
  business_service: 'cmdb_ci_service',
  std_change_producer_version: 'std_change_producer_version',
  chg_model: 'chg_model',
  company: 'core_company',
  location: 'cmn_location',
};
const TABLE_REFERENCES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  cmdb_rel_ci: { parent: 'cmdb_ci', child: 'cmdb_ci', type: 'cmdb_rel_type' },
  change_task: { change_request: 'change_request' },
};
const DATE_TIMES = new Set([
  'sys_created_on',
  'sys_updated_on',
  'start_date',
  'end_date',
  'opened_at',
  'closed_at',
  'resolved_at',
  'work_start',
  'work_end',
  'due_date',
]);
const INCIDENT_STATES: Readonly<Record<string, string>> = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};
const LEVELS: Readonly<Record<string, string>> = {
  '1': '1 - High',
  '2': '2 - Medium',
  '3': '3 - Low',
};
const PRIORITIES: Readonly<Record<string, string>> = {
  '1': '1 - Critical',
  '2': '2 - High',
  '3': '3 - Moderate',
  '4': '4 - Low',
  '5': '5 - Planning',
};
const TYPES: Readonly<Record<string, string>> = {
  normal: 'Normal',
  standard: 'Standard',
  emergency: 'Emergency',
};

export type DisplayMode = 'true' | 'false' | 'all';

/** Which table a field references, if it is a reference field. */
export function referenceTable(table: string, field: string): string | undefined {
  return TABLE_REFERENCES[table]?.[field] ?? REFERENCES[field];
}

function choiceLabel(table: string, field: string, value: string): string | undefined {
  if (field === 'state') return (table === 'incident' ? INCIDENT_STATES : STATE_LABELS)[value];
  if (field === 'approval') return APPROVAL_LABELS[value];
  if (field === 'type' && table === 'change_request') return TYPES[value];
  if (field === 'close_code' && table === 'change_request') return CLOSE_CODES[value];
  if (field === 'impact' || field === 'urgency') return LEVELS[value];
  if (field === 'priority') return PRIORITIES[value];
  return undefined;
}

/** The display value of one field (reference -> name/number, choice -> label). */
export function displayValue(
  ctx: SandboxContext,
  table: string,
  field: string,
  value: string,
): string {
  if (value === '') return '';
  if (referenceTable(table, field)) {
    const hit = ctx.store.findAnywhere(value)?.record;
    return hit ? (hit.name ?? hit.number ?? hit.user_name ?? hit.sys_id ?? '') : '';
  }
  return choiceLabel(table, field, value) ?? value;
}

function pick(record: SnRecord, fields: readonly string[] | undefined): [string, string][] {
  const entries = Object.entries(record);
  if (!fields || fields.length === 0) return entries;
  return fields.map((f) => [f, record[f] ?? ''] as [string, string]);
}

/** A record as the Table API returns it for the given `sysparm_display_value`. */
export function renderTable(
  ctx: SandboxContext,
  table: string,
  record: SnRecord,
  opts: { display: DisplayMode; fields?: readonly string[]; excludeReferenceLink: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of pick(record, opts.fields)) {
    const ref = referenceTable(table, field);
    const link = ref && value ? `${ctx.baseUrl}/api/now/table/${ref}/${value}` : undefined;
    const shown = displayValue(ctx, table, field, value);
    if (opts.display === 'all') {
      out[field] =
        link && !opts.excludeReferenceLink
          ? { display_value: shown, link, value }
          : { display_value: shown, value };
    } else if (opts.display === 'true') {
      out[field] = link && !opts.excludeReferenceLink ? { display_value: shown, link } : shown;
    } else {
      // Reference fields come back as {link, value} unless the client excludes links.
      out[field] = link && !opts.excludeReferenceLink ? { link, value } : value;
    }
  }
  return out;
}

/** A record as the Change Management API returns it: every field `{value, display_value}`. */
export function renderChange(ctx: SandboxContext, record: SnRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    const entry: Record<string, string> = {
      display_value: displayValue(ctx, 'change_request', field, value),
      value,
    };
    if (DATE_TIMES.has(field)) entry.display_value_internal = value;
    out[field] = entry;
  }
  return out;
}
