/**
 * ServiceNow encoded queries (`sysparm_query`), parsed and evaluated in memory.
 *
 * Semantics follow the platform: `^` is AND, `^OR` binds tighter than AND (so `a=1^ORb=2^c=3`
 * means `(a=1 OR b=2) AND c=3`), `^NQ` starts a new query that is OR-ed with the previous one,
 * `^^` is a literal caret, and `ORDERBY<field>` / `ORDERBYDESC<field>` sort. Field names are
 * lower case, operators upper case, which is what makes `short_descriptionLIKEdeploy` parseable.
 *
 * @module
 */

export type Operator =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'LIKE'
  | 'NOT LIKE'
  | 'STARTSWITH'
  | 'ENDSWITH'
  | 'IN'
  | 'NOT IN'
  | 'ISEMPTY'
  | 'ISNOTEMPTY'
  | 'ANYTHING';

export interface Condition {
  field: string;
  op: Operator;
  value: string;
}

export interface OrderBy {
  field: string;
  desc: boolean;
}

/** OR of queries (`^NQ`), each an AND of clauses, each clause an OR of conditions. */
export interface EncodedQuery {
  queries: Condition[][][];
  orderBy: OrderBy[];
}

// Longest first so `!=` is not read as `=` and `NOT LIKE` not as `LIKE`.
const OPERATORS: readonly Operator[] = [
  'ISNOTEMPTY',
  'ISEMPTY',
  'ANYTHING',
  'NOT LIKE',
  'NOTLIKE' as Operator,
  'NOT IN',
  'NOTIN' as Operator,
  'STARTSWITH',
  'ENDSWITH',
  'LIKE',
  'IN',
  '!=',
  '>=',
  '<=',
  '>',
  '<',
  '=',
];

const CARET = '\u0000';

/** Thrown for a term that names no operator; the Table API answers such queries with 400. */
export class QuerySyntaxError extends Error {
  constructor(term: string) {
    super(`Invalid encoded query term: ${term}`);
    this.name = 'QuerySyntaxError';
  }
}

function parseCondition(term: string): Condition {
  const match = /^([a-z0-9_.]+)(.*)$/s.exec(term);
  if (!match) throw new QuerySyntaxError(term);
  const field = match[1] ?? '';
  const rest = match[2] ?? '';
  for (const op of OPERATORS) {
    if (rest.startsWith(op)) {
      const normalized =
        (op as string) === 'NOTLIKE' ? 'NOT LIKE' : (op as string) === 'NOTIN' ? 'NOT IN' : op;
      return { field, op: normalized, value: rest.slice(op.length).split(CARET).join('^') };
    }
  }
  throw new QuerySyntaxError(term);
}

/**
 * Parse an encoded query. An empty or missing query matches everything.
 * @throws QuerySyntaxError when a term has no recognizable operator.
 * @example parseEncodedQuery('active=true^ORstate=-1^ORDERBYDESCsys_updated_on')
 */
export function parseEncodedQuery(input: string | undefined | null): EncodedQuery {
  const orderBy: OrderBy[] = [];
  const queries: Condition[][][] = [];
  const text = (input ?? '').split('^^').join(CARET);
  for (const part of text.split('^NQ')) {
    const clauses: Condition[][] = [];
    for (const raw of part.split('^')) {
      const term = raw.trim();
      if (term === '' || term === 'EQ') continue;
      if (term.startsWith('ORDERBYDESC')) {
        orderBy.push({ field: term.slice('ORDERBYDESC'.length), desc: true });
      } else if (term.startsWith('ORDERBY')) {
        orderBy.push({ field: term.slice('ORDERBY'.length), desc: false });
      } else if (term.startsWith('OR') && clauses.length > 0) {
        clauses[clauses.length - 1]?.push(parseCondition(term.slice(2)));
      } else {
        clauses.push([parseCondition(term)]);
      }
    }
    if (clauses.length > 0) queries.push(clauses);
  }
  return { queries, orderBy };
}

function compare(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) {
    return na - nb;
  }
  // `YYYY-MM-DD HH:mm:ss` sorts correctly as a string, which is why ServiceNow uses it.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How a condition reads a field of a record (dot-walking `caller_id.name` goes through here). */
export type ValueOf<T> = (record: T, field: string) => string;

const plainValue: ValueOf<Readonly<Record<string, string>>> = (record, field) =>
  record[field] ?? '';

/**
 * Drop every condition and ORDERBY on a field the table does not have. ServiceNowDocs
 * rest-apis/change-management-api.md (sysparm_query): "If part of the query is invalid, such as
 * by specifying an invalid field name, the instance ignores the invalid part … Set
 * [glide.invalid_query.returns_no_rows] to true to return no rows on an invalid query", a
 * property that "controls the behavior of all queries across the instance". `invalid` lists the
 * dropped field names.
 */
export function pruneQuery(
  query: EncodedQuery,
  known: (field: string) => boolean,
): { query: EncodedQuery; invalid: string[] } {
  const invalid = new Set<string>();
  const keep = (field: string): boolean => {
    if (known(field)) return true;
    invalid.add(field);
    return false;
  };
  const queries = query.queries
    .map((clauses) =>
      clauses
        .map((alternatives) => alternatives.filter((cond) => keep(cond.field)))
        .filter((alternatives) => alternatives.length > 0),
    )
    .filter((clauses) => clauses.length > 0);
  // A query whose every term was dropped matches everything, like an empty one.
  const all = query.queries.length > 0 && queries.length < query.queries.length;
  return {
    query: { queries: all ? [] : queries, orderBy: query.orderBy.filter((o) => keep(o.field)) },
    invalid: [...invalid],
  };
}

function test<T>(cond: Condition, record: T, valueOf: ValueOf<T>): boolean {
  const actual = valueOf(record, cond.field);
  const lower = actual.toLowerCase();
  const want = cond.value.toLowerCase();
  switch (cond.op) {
    case '=':
      return actual === cond.value;
    case '!=':
      return actual !== cond.value;
    case '>':
      return compare(actual, cond.value) > 0;
    case '>=':
      return compare(actual, cond.value) >= 0;
    case '<':
      return compare(actual, cond.value) < 0;
    case '<=':
      return compare(actual, cond.value) <= 0;
    // LIKE and STARTSWITH are case-insensitive on the platform.
    case 'LIKE':
      return lower.includes(want);
    case 'NOT LIKE':
      return !lower.includes(want);
    case 'STARTSWITH':
      return lower.startsWith(want);
    case 'ENDSWITH':
      return lower.endsWith(want);
    case 'IN':
      return cond.value.split(',').includes(actual);
    case 'NOT IN':
      return !cond.value.split(',').includes(actual);
    case 'ISEMPTY':
      return actual === '';
    case 'ISNOTEMPTY':
      return actual !== '';
    case 'ANYTHING':
      return true;
  }
}

/** Whether `record` satisfies the parsed query. */
export function matches<T = Readonly<Record<string, string>>>(
  query: EncodedQuery,
  record: T,
  valueOf: ValueOf<T> = plainValue as unknown as ValueOf<T>,
): boolean {
  if (query.queries.length === 0) return true;
  return query.queries.some((clauses) =>
    clauses.every((alternatives) => alternatives.some((cond) => test(cond, record, valueOf))),
  );
}

/** Filter and sort records by the query (stable: equal keys keep insertion order). */
export function applyQuery<T extends Readonly<Record<string, string>>>(
  query: EncodedQuery,
  records: readonly T[],
  valueOf: ValueOf<T> = plainValue,
): T[] {
  const hits = records.filter((record) => matches(query, record, valueOf));
  if (query.orderBy.length === 0) return hits;
  return hits
    .map((record, index) => ({ record, index }))
    .sort((x, y) => {
      for (const { field, desc } of query.orderBy) {
        const diff = compare(valueOf(x.record, field), valueOf(y.record, field));
        if (diff !== 0) return desc ? -diff : diff;
      }
      return x.index - y.index;
    })
    .map(({ record }) => record);
}
