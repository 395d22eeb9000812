/**
 * ServiceNow field values come as plain strings (Table API, display_value=false), as
 * `{value, display_value}` (sn_chg_rest, display_value=all) or as `{value, link}` (references).
 * Callers get one shape: plain string records.
 *
 * @module
 */

/** A record as field → string value (`sys_id`, `number`, `state`...). */
export type SnRecord = Record<string, string>;

function scalar(v: unknown, prefer: 'value' | 'display_value'): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const other = prefer === 'value' ? 'display_value' : 'value';
    if (prefer in o) return scalar(o[prefer], prefer);
    if (other in o) return scalar(o[other], prefer);
  }
  return JSON.stringify(v);
}

/** Flatten one record to its raw values (or display values). */
export function flattenRecord(raw: unknown, prefer: 'value' | 'display_value' = 'value'): SnRecord {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: SnRecord = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = scalar(v, prefer);
  return out;
}

/** A `result` that may be a record or a list of records, as a list of flat records. */
export function flattenRecords(
  raw: unknown,
  prefer: 'value' | 'display_value' = 'value',
): SnRecord[] {
  if (Array.isArray(raw)) return raw.map((r) => flattenRecord(r, prefer));
  if (raw && typeof raw === 'object') return [flattenRecord(raw, prefer)];
  return [];
}
