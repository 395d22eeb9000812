/**
 * The sandbox's in-memory database: tables from the dictionary (`dictionary.json`), records of
 * strings holding every column of their table, plus the platform behaviour changegate depends
 * on (numbering, sys_ fields, journal fields, the change model, incident priority and
 * resolution data policy) and a write hook for business rules and the approval engine.
 *
 * A field the table lacks is ignored on write, as the Table API does (and reported back so the
 * Change Management API can list it in `__meta.ignoredFields`).
 *
 * @module
 */
import { changeTypeOf, newChangeDefaults, planChange } from './change-model.js';
import type { Dictionary } from './dictionary.js';
import type { SnRecord } from './types.js';
import { glideDateTime, newSysId } from './util.js';

// System-maintained columns: a client's value is ignored (read-only fields, Change Management
// API: "not applied ... as they ... are read-only").
const READ_ONLY = new Set([
  'sys_id',
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
  'sys_class_name',
  'number',
]);

export type WriteResult =
  | { ok: true; record: SnRecord; ignored: string[] }
  | { ok: false; detail: string; invalidTable?: boolean };
export type WriteListener = (
  table: string,
  record: SnRecord,
  operation: 'insert' | 'update',
  previous: SnRecord | undefined,
) => void;

export interface WriteOptions {
  /** A write by the platform itself (approval engine): may make automatic state moves. */
  system?: boolean;
  /** Keep the caller's sys_id (32 hex) on insert, as the Table API allows. */
  sysId?: string;
}

// Impact x urgency -> priority, the baseline incident priority lookup.
function incidentPriority(impact: string, urgency: string): string {
  const sum = Number(impact || 3) + Number(urgency || 3);
  return String(Math.min(5, Math.max(1, sum - 1)));
}

function text(raw: unknown): string {
  if (raw === null || raw === undefined) return '';
  if (typeof raw === 'object') return JSON.stringify(raw);
  return String(raw);
}

export class Store {
  private readonly tables = new Map<string, Map<string, SnRecord>>();
  private readonly counters = new Map<string, number>();
  private readonly listeners: WriteListener[] = [];

  constructor(
    private readonly clock: () => Date,
    readonly dictionary: Dictionary,
  ) {}

  /** Subscribe to every committed insert/update. */
  onWrite(listener: WriteListener): void {
    this.listeners.push(listener);
  }

  private table(name: string): Map<string, SnRecord> {
    let rows = this.tables.get(name);
    if (!rows) {
      rows = new Map();
      this.tables.set(name, rows);
    }
    return rows;
  }

  /** Records of exactly this table in insertion order (copies). */
  list(table: string): SnRecord[] {
    return [...this.table(table).values()].map((r) => ({ ...r }));
  }

  /** Records of the table and every table extending it (a query on `cmdb_ci` or `task`). */
  listFamily(table: string): SnRecord[] {
    return this.dictionary.family(table).flatMap((t) => this.list(t));
  }

  get(table: string, sysId: string): SnRecord | undefined {
    const row = this.table(table).get(sysId);
    return row ? { ...row } : undefined;
  }

  /** A record of the table or of a table extending it. */
  getInFamily(table: string, sysId: string): SnRecord | undefined {
    for (const t of this.dictionary.family(table)) {
      const hit = this.get(t, sysId);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Find by `number` (CHG…, INC…) in a table. */
  findByNumber(table: string, number: string): SnRecord | undefined {
    for (const record of this.table(table).values())
      if (record.number === number) return { ...record };
    return undefined;
  }

  /** sys_id of the sys_user with this user_name ('' when there is none). */
  userId(userName: string): string {
    for (const u of this.table('sys_user').values())
      if (u.user_name === userName) return u.sys_id ?? '';
    return '';
  }

  private nextNumber(table: string): string | undefined {
    const prefix = this.dictionary.table(table)?.numberPrefix;
    if (!prefix) return undefined;
    const next = (this.counters.get(prefix) ?? 10000) + 1;
    this.counters.set(prefix, next);
    return `${prefix}${String(next).padStart(7, '0')}`;
  }

  /** Keep the fields the table has; journal inputs go to sys_journal_field. */
  private split(
    table: string,
    fields: Record<string, unknown>,
  ): { plain: SnRecord; journal: [string, string][]; ignored: string[] } {
    const plain: SnRecord = {};
    const journal: [string, string][] = [];
    const ignored: string[] = [];
    for (const [key, raw] of Object.entries(fields)) {
      if (raw === undefined) continue;
      const col = this.dictionary.column(table, key);
      if (!col || READ_ONLY.has(key) || this.dictionary.isJournalList(table, key)) {
        ignored.push(key);
        continue;
      }
      const value = col.type === 'boolean' && typeof raw === 'boolean' ? String(raw) : text(raw);
      if (this.dictionary.isJournal(table, key)) {
        if (value !== '') journal.push([key, value]);
      } else {
        plain[key] = value;
      }
    }
    return { plain, journal, ignored };
  }

  /**
   * A change's `approval` is the approval engine's to set (from its sysapproval_approver
   * records); a client's value is dropped, so writing approval=approved approves nothing.
   */
  private dropEngineFields(
    table: string,
    plain: SnRecord,
    ignored: string[],
    opts: WriteOptions,
  ): void {
    if (table === 'change_request' && !opts.system && 'approval' in plain) {
      delete plain.approval;
      ignored.push('approval');
    }
  }

  private applyRules(
    table: string,
    current: SnRecord,
    patch: SnRecord,
    isNew: boolean,
    opts: WriteOptions,
  ): { ok: true; record: SnRecord } | { ok: false; detail: string } {
    if (table === 'change_request') {
      const base = isNew ? { ...current, ...newChangeDefaults(changeTypeOf(patch.type)) } : current;
      const plan = planChange(base, patch, { ...(opts.system ? { system: true } : {}) });
      return plan.ok ? { ok: true, record: plan.fields } : { ok: false, detail: plan.detail };
    }
    const next = { ...current, ...patch };
    if (table === 'incident') {
      next.priority = incidentPriority(next.impact ?? '3', next.urgency ?? '3');
      if ((next.state === '6' || next.state === '7') && current.state !== next.state) {
        if (!next.close_code || !next.close_notes) {
          return {
            ok: false,
            detail: `Data Policy Exception: The following fields are mandatory: Resolution code, Resolution notes`,
          };
        }
        next.resolved_at ||= glideDateTime(this.clock());
      }
      if (next.state === '7' || next.state === '8') next.active = 'false';
      next.incident_state = next.state ?? next.incident_state ?? '';
    }
    return { ok: true, record: next };
  }

  private commit(
    table: string,
    record: SnRecord,
    journal: [string, string][],
    user: string,
    operation: 'insert' | 'update',
    previous: SnRecord | undefined,
  ): SnRecord {
    const now = glideDateTime(this.clock());
    this.table(table).set(record.sys_id ?? '', record);
    for (const [element, value] of journal) {
      const entry: SnRecord = {};
      for (const name of this.dictionary.columnNames('sys_journal_field')) entry[name] = '';
      Object.assign(entry, {
        sys_id: newSysId(),
        name: table,
        element,
        element_id: record.sys_id ?? '',
        value,
        sys_created_on: now,
        sys_created_by: user,
        sys_updated_on: now,
        sys_updated_by: user,
        sys_mod_count: '0',
      });
      this.table('sys_journal_field').set(entry.sys_id ?? '', entry);
    }
    for (const listener of this.listeners)
      listener(table, { ...record }, operation, previous ? { ...previous } : undefined);
    return { ...record };
  }

  /** Insert, running the table's rules; `detail` says why a business rule aborted. */
  insert(
    table: string,
    fields: Record<string, unknown>,
    user: string,
    opts: WriteOptions = {},
  ): WriteResult {
    const def = this.dictionary.table(table);
    if (!def) return { ok: false, detail: `Invalid table ${table}`, invalidTable: true };
    const { plain, journal, ignored } = this.split(table, fields);
    this.dropEngineFields(table, plain, ignored, opts);
    const asked = opts.sysId ?? text(fields.sys_id);
    const sysId = /^[0-9a-f]{32}$/.test(asked) ? asked : newSysId();
    if (this.table(table).has(sysId)) {
      return { ok: false, detail: `Duplicate sys_id ${sysId} in ${table}` };
    }
    const now = glideDateTime(this.clock());
    const base: SnRecord = {};
    for (const col of def.columns.values()) base[col.name] = col.default;
    Object.assign(base, {
      sys_id: sysId,
      sys_created_on: now,
      sys_created_by: user,
      sys_updated_on: now,
      sys_updated_by: user,
      sys_mod_count: '0',
    });
    if ('sys_class_name' in base) base.sys_class_name = table;
    const number = this.nextNumber(table);
    if (number && 'number' in base) base.number = number;
    // Task defaults (dictionary defaults `javascript:gs.getUserID()` / `gs.nowDateTime()`).
    if ('opened_by' in base) base.opened_by = this.userId(user);
    if ('opened_at' in base) base.opened_at = now;
    if ('task_effective_number' in base) base.task_effective_number = base.number ?? '';
    const result = this.applyRules(table, base, plain, true, opts);
    if (!result.ok) return result;
    return {
      ok: true,
      record: this.commit(table, result.record, journal, user, 'insert', undefined),
      ignored,
    };
  }

  /** Update; undefined when the record does not exist. */
  update(
    table: string,
    sysId: string,
    fields: Record<string, unknown>,
    user: string,
    opts: WriteOptions = {},
  ): WriteResult | undefined {
    const current = this.table(table).get(sysId);
    if (!current) return undefined;
    const { plain, journal, ignored } = this.split(table, fields);
    this.dropEngineFields(table, plain, ignored, opts);
    const result = this.applyRules(table, { ...current }, plain, false, opts);
    if (!result.ok) return result;
    const record = result.record;
    record.sys_updated_on = glideDateTime(this.clock());
    record.sys_updated_by = user;
    record.sys_mod_count = String(Number(current.sys_mod_count ?? '0') + 1);
    return {
      ok: true,
      record: this.commit(table, record, journal, user, 'update', { ...current }),
      ignored,
    };
  }

  delete(table: string, sysId: string): boolean {
    return this.table(table).delete(sysId);
  }

  /** Drop every table (admin reset). */
  reset(): void {
    this.tables.clear();
    this.counters.clear();
  }
}
