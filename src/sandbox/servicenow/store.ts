/**
 * The sandbox's in-memory database: generic tables of string records, plus the platform
 * behaviour changegate depends on (numbering, sys_ fields, journal fields, the change model,
 * incident priority and resolution data policy) and a write hook for business rules.
 *
 * @module
 */
import { changeTypeOf, newChangeDefaults, planChange } from './change-model.js';
import type { SnRecord } from './types.js';
import { glideDateTime, newSysId } from './util.js';

/** Journal fields: writes land in sys_journal_field and read back empty, as on a real instance. */
export const JOURNAL_FIELDS = ['work_notes', 'comments', 'comments_and_work_notes'] as const;
const READ_ONLY = new Set([
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
  'sys_class_name',
]);

const NUMBER_PREFIX: Readonly<Record<string, string>> = {
  change_request: 'CHG',
  incident: 'INC',
  change_task: 'CTASK',
  problem: 'PRB',
  sc_req_item: 'RITM',
  sc_request: 'REQ',
};

export type WriteResult = { ok: true; record: SnRecord } | { ok: false; detail: string };
export type WriteListener = (
  table: string,
  record: SnRecord,
  operation: 'insert' | 'update',
) => void;

// Impact x urgency -> priority, the baseline incident priority lookup.
function incidentPriority(impact: string, urgency: string): string {
  const sum = Number(impact || 3) + Number(urgency || 3);
  return String(Math.min(5, Math.max(1, sum - 1)));
}

export class Store {
  private readonly tables = new Map<string, Map<string, SnRecord>>();
  private readonly counters = new Map<string, number>();
  private readonly listeners: WriteListener[] = [];

  constructor(private readonly clock: () => Date) {}

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

  /** Names of every table that holds or held records. */
  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  /** All records of a table in insertion order (copies). */
  list(table: string): SnRecord[] {
    return [...this.table(table).values()].map((r) => ({ ...r }));
  }

  get(table: string, sysId: string): SnRecord | undefined {
    const row = this.table(table).get(sysId);
    return row ? { ...row } : undefined;
  }

  /** Find a record by sys_id in any table (for reference display values). */
  findAnywhere(sysId: string): { table: string; record: SnRecord } | undefined {
    for (const [table, rows] of this.tables) {
      const record = rows.get(sysId);
      if (record) return { table, record: { ...record } };
    }
    return undefined;
  }

  /** Find by `number` (CHG…, INC…) in a table. */
  findByNumber(table: string, number: string): SnRecord | undefined {
    for (const record of this.table(table).values())
      if (record.number === number) return { ...record };
    return undefined;
  }

  private nextNumber(table: string): string | undefined {
    const prefix = NUMBER_PREFIX[table];
    if (!prefix) return undefined;
    const next = (this.counters.get(table) ?? 10000) + 1;
    this.counters.set(table, next);
    return `${prefix}${String(next).padStart(7, '0')}`;
  }

  private split(fields: Record<string, unknown>): { plain: SnRecord; journal: [string, string][] } {
    const plain: SnRecord = {};
    const journal: [string, string][] = [];
    for (const [key, raw] of Object.entries(fields)) {
      if (READ_ONLY.has(key) || raw === undefined) continue;
      const value = raw === null ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
      if ((JOURNAL_FIELDS as readonly string[]).includes(key)) {
        if (value !== '')
          journal.push([key === 'comments_and_work_notes' ? 'work_notes' : key, value]);
      } else {
        plain[key] = value;
      }
    }
    return { plain, journal };
  }

  private applyRules(
    table: string,
    current: SnRecord,
    patch: SnRecord,
    isNew: boolean,
  ): WriteResult {
    if (table === 'change_request') {
      const base = isNew ? { ...newChangeDefaults(changeTypeOf(patch.type)), ...current } : current;
      const plan = planChange(base, patch);
      return plan.ok ? { ok: true, record: plan.fields } : { ok: false, detail: plan.detail };
    }
    const next = { ...current, ...patch };
    if (table === 'incident') {
      if (isNew) {
        next.state ||= '1';
        next.impact ||= '3';
        next.urgency ||= '3';
        next.active ||= 'true';
      }
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
    }
    return { ok: true, record: next };
  }

  private commit(
    table: string,
    record: SnRecord,
    journal: [string, string][],
    user: string,
    operation: 'insert' | 'update',
  ): SnRecord {
    const now = glideDateTime(this.clock());
    for (const field of JOURNAL_FIELDS) {
      if (table === 'change_request' || table === 'incident' || field in record) record[field] = '';
    }
    this.table(table).set(record.sys_id ?? '', record);
    for (const [element, value] of journal) {
      const entry: SnRecord = {
        sys_id: newSysId(),
        name: table,
        element,
        element_id: record.sys_id ?? '',
        value,
        sys_created_on: now,
        sys_created_by: user,
      };
      this.table('sys_journal_field').set(entry.sys_id ?? '', entry);
    }
    for (const listener of this.listeners) listener(table, { ...record }, operation);
    return { ...record };
  }

  /** Insert, running the table's rules; `detail` says why a business rule aborted. */
  insert(table: string, fields: Record<string, unknown>, user: string): WriteResult {
    const { plain, journal } = this.split(fields);
    const now = glideDateTime(this.clock());
    const sysId = /^[0-9a-f]{32}$/.test(plain.sys_id ?? '') ? (plain.sys_id as string) : newSysId();
    if (this.table(table).has(sysId)) {
      return { ok: false, detail: `Duplicate sys_id ${sysId} in ${table}` };
    }
    const number = plain.number || this.nextNumber(table);
    const base: SnRecord = {
      sys_id: sysId,
      ...(number ? { number } : {}),
      sys_created_on: now,
      sys_created_by: user,
      sys_updated_on: now,
      sys_updated_by: user,
      sys_mod_count: '0',
      sys_class_name: table,
      sys_tags: '',
    };
    const result = this.applyRules(table, base, { ...plain, sys_id: sysId }, true);
    if (!result.ok) return result;
    return { ok: true, record: this.commit(table, result.record, journal, user, 'insert') };
  }

  /** Update; undefined when the record does not exist. */
  update(
    table: string,
    sysId: string,
    fields: Record<string, unknown>,
    user: string,
  ): WriteResult | undefined {
    const current = this.table(table).get(sysId);
    if (!current) return undefined;
    const { plain, journal } = this.split(fields);
    delete plain.sys_id;
    delete plain.number;
    const result = this.applyRules(table, { ...current }, plain, false);
    if (!result.ok) return result;
    const record = result.record;
    record.sys_updated_on = glideDateTime(this.clock());
    record.sys_updated_by = user;
    record.sys_mod_count = String(Number(current.sys_mod_count ?? '0') + 1);
    return { ok: true, record: this.commit(table, record, journal, user, 'update') };
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
