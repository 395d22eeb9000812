/**
 * The table dictionary (`dictionary.json`): which tables exist, their columns with parents'
 * columns merged in (`extends`), column types, choices, references and defaults. Every table
 * semantic of the sandbox reads from here: unknown fields are ignored on write, unknown query
 * terms are dropped, reads return every column, unknown tables answer 400.
 *
 * @module
 */
import { z } from 'zod';
import raw from './dictionary.json' with { type: 'json' };

const ColumnSpec = z.union([
  z.string(),
  z.object({
    type: z.string(),
    reference: z.string().optional(),
    default: z.string().optional(),
    choices: z.record(z.string(), z.string()).optional(),
  }),
]);
const TableSpec = z.object({
  label: z.string().optional(),
  extends: z.string().optional(),
  display: z.string().optional(),
  numberPrefix: z.string().optional(),
  source: z.string(),
  columns: z.record(z.string(), ColumnSpec),
});
const DictionaryFile = z.object({
  common: z.object({ source: z.string(), columns: z.record(z.string(), ColumnSpec) }),
  tables: z.record(z.string(), TableSpec),
});

export type ColumnInput = z.infer<typeof ColumnSpec>;
export type TableInput = z.infer<typeof TableSpec>;

export interface Column {
  name: string;
  type: string;
  reference?: string;
  default: string;
  choices?: Readonly<Record<string, string>>;
}

export interface TableDef {
  name: string;
  label: string;
  /** Parent chain, nearest first (`change_request` -> `['task']`). */
  ancestors: string[];
  display: string;
  numberPrefix?: string;
  columns: ReadonlyMap<string, Column>;
}

const DATE_TYPES = new Set(['glide_date_time', 'glide_date', 'due_date']);
const JOURNAL_INPUT = new Set(['journal_input']);

function column(name: string, spec: ColumnInput): Column {
  if (typeof spec === 'string') {
    return { name, type: spec, default: '' };
  }
  return {
    name,
    type: spec.type,
    default: spec.default ?? '',
    ...(spec.reference ? { reference: spec.reference } : {}),
    ...(spec.choices ? { choices: spec.choices } : {}),
  };
}

/** Extra tables or columns a test instance has (custom `u_` fields, a plugin's tables). */
export type DictionaryExtension = Record<
  string,
  Partial<TableInput> & { columns?: Record<string, ColumnInput> }
>;

export class Dictionary {
  private readonly tables = new Map<string, TableDef>();

  constructor(extension: DictionaryExtension = {}) {
    const file = DictionaryFile.parse(raw);
    const specs = new Map<string, TableInput>(Object.entries(file.tables));
    for (const [name, ext] of Object.entries(extension)) {
      const base = specs.get(name);
      specs.set(name, {
        ...(base ?? { source: 'test extension' }),
        ...ext,
        source: base?.source ?? ext.source ?? 'test extension',
        columns: { ...(base?.columns ?? {}), ...(ext.columns ?? {}) },
      } as TableInput);
    }
    const resolve = (name: string, seen: string[] = []): TableDef => {
      const done = this.tables.get(name);
      if (done) return done;
      const spec = specs.get(name);
      if (!spec) throw new Error(`dictionary: table ${name} is not defined`);
      if (seen.includes(name)) throw new Error(`dictionary: ${name} extends itself`);
      const parent = spec.extends ? resolve(spec.extends, [...seen, name]) : undefined;
      const columns = new Map<string, Column>();
      for (const [n, c] of Object.entries(file.common.columns)) columns.set(n, column(n, c));
      if (parent) for (const [n, c] of parent.columns) columns.set(n, c);
      for (const [n, c] of Object.entries(spec.columns)) columns.set(n, column(n, c));
      const def: TableDef = {
        name,
        label: spec.label ?? name,
        ancestors: parent ? [parent.name, ...parent.ancestors] : [],
        display: spec.display ?? parent?.display ?? (columns.has('name') ? 'name' : 'sys_id'),
        ...((spec.numberPrefix ?? parent?.numberPrefix)
          ? { numberPrefix: spec.numberPrefix ?? parent?.numberPrefix }
          : {}),
        columns,
      };
      this.tables.set(name, def);
      return def;
    };
    for (const name of specs.keys()) resolve(name);
  }

  has(table: string): boolean {
    return this.tables.has(table);
  }

  table(table: string): TableDef | undefined {
    return this.tables.get(table);
  }

  /** Column of a table (inherited ones included), undefined when the table lacks it. */
  column(table: string, field: string): Column | undefined {
    return this.tables.get(table)?.columns.get(field);
  }

  columnNames(table: string): string[] {
    return [...(this.tables.get(table)?.columns.keys() ?? [])];
  }

  /** Whether `child` is `parent` or extends it (`cmdb_ci_linux_server` is a `cmdb_ci`). */
  isA(child: string, parent: string): boolean {
    const def = this.tables.get(child);
    return !!def && (child === parent || def.ancestors.includes(parent));
  }

  /** The table and every table extending it: what a query on a parent table sees. */
  family(table: string): string[] {
    return [...this.tables.keys()].filter((t) => this.isA(t, table));
  }

  isDateTime(table: string, field: string): boolean {
    return DATE_TYPES.has(this.column(table, field)?.type ?? '');
  }

  isJournal(table: string, field: string): boolean {
    return JOURNAL_INPUT.has(this.column(table, field)?.type ?? '');
  }

  /** Journal list fields (`comments_and_work_notes`) read back empty and cannot be written. */
  isJournalList(table: string, field: string): boolean {
    const type = this.column(table, field)?.type ?? '';
    return type === 'journal_list' || type === 'journal';
  }

  choiceLabel(table: string, field: string, value: string): string | undefined {
    return this.column(table, field)?.choices?.[value];
  }

  referenceOf(table: string, field: string): string | undefined {
    const col = this.column(table, field);
    return col?.type === 'reference' ? col.reference : undefined;
  }
}
