/**
 * How records go over the wire: the Table API's value / display_value / reference-link forms
 * and the Change Management API's `{field: {value, display_value}}` form. Every column of the
 * table is returned, empty ones as `""` (Table API reference: a GET returns all fields unless
 * `sysparm_fields` names some); display values come from the dictionary's choices and the
 * referenced record's display field.
 *
 * @module
 */
import type { SandboxContext } from './context.js';
import type { SnRecord } from './types.js';

export type DisplayMode = 'true' | 'false' | 'all';

/** Which table a field references, if it is a reference field. */
export function referenceTable(
  ctx: SandboxContext,
  table: string,
  field: string,
): string | undefined {
  return ctx.store.dictionary.referenceOf(table, field);
}

/** Whether `path` (`state`, or dot-walked `assignment_group.name`) names columns of `table`. */
export function knownField(ctx: SandboxContext, table: string, path: string): boolean {
  const dict = ctx.store.dictionary;
  let current = table;
  const parts = path.split('.');
  for (const [i, part] of parts.entries()) {
    if (!dict.column(current, part)) return false;
    if (i < parts.length - 1) {
      const ref = dict.referenceOf(current, part);
      if (!ref || !dict.has(ref)) return false;
      current = ref;
    }
  }
  return true;
}

/** The value at `path`, following references for dot-walked paths ('' when unset). */
export function valueAt(
  ctx: SandboxContext,
  table: string,
  record: SnRecord,
  path: string,
): string {
  const dot = path.indexOf('.');
  if (dot < 0) return record[path] ?? '';
  const head = path.slice(0, dot);
  const ref = referenceTable(ctx, table, head);
  const target = ref && record[head] ? ctx.store.getInFamily(ref, record[head]) : undefined;
  return target && ref ? valueAt(ctx, ref, target, path.slice(dot + 1)) : '';
}

/** The display value of one field (reference -> display field, choice -> label). */
export function displayValue(
  ctx: SandboxContext,
  table: string,
  field: string,
  value: string,
): string {
  if (value === '') return '';
  const dict = ctx.store.dictionary;
  const ref = referenceTable(ctx, table, field);
  if (ref) {
    const hit = dict.has(ref) ? ctx.store.getInFamily(ref, value) : undefined;
    if (!hit) return '';
    const display = dict.table(hit.sys_class_name || ref)?.display ?? dict.table(ref)?.display;
    return hit[display ?? 'sys_id'] ?? '';
  }
  return dict.choiceLabel(table, field, value) ?? value;
}

/** The columns a read returns: every column, or the known ones `sysparm_fields` names. */
function columnsFor(
  ctx: SandboxContext,
  table: string,
  fields: readonly string[] | undefined,
): string[] {
  if (!fields || fields.length === 0) return ctx.store.dictionary.columnNames(table);
  return fields.filter((f) => knownField(ctx, table, f));
}

/** A record as the Table API returns it for the given `sysparm_display_value`. */
export function renderTable(
  ctx: SandboxContext,
  table: string,
  record: SnRecord,
  opts: { display: DisplayMode; fields?: readonly string[]; excludeReferenceLink: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of columnsFor(ctx, table, opts.fields)) {
    const value = valueAt(ctx, table, record, path);
    const dot = path.lastIndexOf('.');
    // Dot-walked fields render against the table that holds their last segment.
    const owner = dot < 0 ? table : ownerTable(ctx, table, path);
    const field = dot < 0 ? path : path.slice(dot + 1);
    const ref = referenceTable(ctx, owner, field);
    const link = ref && value ? `${ctx.baseUrl}/api/now/table/${ref}/${value}` : undefined;
    const shown = displayValue(ctx, owner, field, value);
    if (opts.display === 'all') {
      out[path] =
        link && !opts.excludeReferenceLink
          ? { display_value: shown, link, value }
          : { display_value: shown, value };
    } else if (opts.display === 'true') {
      out[path] = link && !opts.excludeReferenceLink ? { display_value: shown, link } : shown;
    } else {
      // Reference fields come back as {link, value} unless the client excludes links.
      out[path] = link && !opts.excludeReferenceLink ? { link, value } : value;
    }
  }
  return out;
}

function ownerTable(ctx: SandboxContext, table: string, path: string): string {
  let current = table;
  for (const part of path.split('.').slice(0, -1)) {
    current = referenceTable(ctx, current, part) ?? current;
  }
  return current;
}

/**
 * A record as the Change Management API returns it: every field `{value, display_value}`,
 * date-times with `display_value_internal`, integers and booleans as JSON numbers and booleans
 * (the API reference's examples show `"value": 3.0` and `"value": false`).
 */
export function renderChange(
  ctx: SandboxContext,
  record: SnRecord,
  table = 'change_request',
): Record<string, unknown> {
  const dict = ctx.store.dictionary;
  const out: Record<string, unknown> = {};
  for (const field of dict.columnNames(table)) {
    const value = record[field] ?? '';
    const type = dict.column(table, field)?.type;
    const typed: unknown =
      value === ''
        ? ''
        : type === 'integer' && Number.isFinite(Number(value))
          ? Number(value)
          : type === 'boolean'
            ? value === 'true'
            : value;
    const entry: Record<string, unknown> = {
      display_value: displayValue(ctx, table, field, value),
      value: typed,
    };
    if (dict.isDateTime(table, field)) entry.display_value_internal = value;
    out[field] = entry;
  }
  return out;
}
