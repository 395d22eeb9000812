import { describe, expect, it } from 'vitest';
import {
  QuerySyntaxError,
  applyQuery,
  matches,
  parseEncodedQuery,
  pruneQuery,
} from '../../../../src/sandbox/servicenow/query.js';

const rows = [
  {
    sys_id: 'a',
    state: '-1',
    active: 'true',
    short_description: 'Deploy web',
    n: '10',
    cmdb_ci: '',
  },
  {
    sys_id: 'b',
    state: '-2',
    active: 'true',
    short_description: 'deploy API',
    n: '9',
    cmdb_ci: 'x',
  },
  {
    sys_id: 'c',
    state: '3',
    active: 'false',
    short_description: 'Patch DB',
    n: '100',
    cmdb_ci: '',
  },
];
const ids = (q: string): string[] => applyQuery(parseEncodedQuery(q), rows).map((r) => r.sys_id);

describe('encoded query parser', () => {
  it('matches everything when the query is empty or missing', () => {
    expect(ids('')).toEqual(['a', 'b', 'c']);
    expect(matches(parseEncodedQuery(undefined), rows[0]!)).toBe(true);
  });

  it('combines terms joined by ^ with AND', () => {
    expect(ids('active=true^state=-1')).toEqual(['a']);
  });

  it('binds ^OR tighter than ^ like the platform', () => {
    expect(ids('state=-1^ORstate=3^active=true')).toEqual(['a']);
    expect(ids('state=-1^ORstate=3')).toEqual(['a', 'c']);
  });

  it('ORs whole queries separated by ^NQ', () => {
    expect(ids('state=3^NQstate=-2')).toEqual(['b', 'c']);
  });

  it('supports != and numeric comparisons', () => {
    expect(ids('state!=-1')).toEqual(['b', 'c']);
    expect(ids('n>9')).toEqual(['a', 'c']);
    expect(ids('n<=10')).toEqual(['a', 'b']);
  });

  it('treats LIKE and STARTSWITH case-insensitively', () => {
    expect(ids('short_descriptionLIKEdeploy')).toEqual(['a', 'b']);
    expect(ids('short_descriptionSTARTSWITHpatch')).toEqual(['c']);
    expect(ids('short_descriptionNOT LIKEdeploy')).toEqual(['c']);
  });

  it('supports IN, ISEMPTY and ISNOTEMPTY', () => {
    expect(ids('stateIN-1,3')).toEqual(['a', 'c']);
    expect(ids('cmdb_ciISEMPTY')).toEqual(['a', 'c']);
    expect(ids('cmdb_ciISNOTEMPTY')).toEqual(['b']);
  });

  it('orders by ORDERBY and ORDERBYDESC, numerically when values are numbers', () => {
    expect(ids('ORDERBYn')).toEqual(['b', 'a', 'c']);
    expect(ids('active=true^ORDERBYDESCsys_id')).toEqual(['b', 'a']);
  });

  it('reads ^^ as a literal caret inside a value', () => {
    const q = parseEncodedQuery('short_description=a^^b^state=1');
    expect(q.queries[0]).toEqual([
      [{ field: 'short_description', op: '=', value: 'a^b' }],
      [{ field: 'state', op: '=', value: '1' }],
    ]);
  });

  it('rejects a term without an operator', () => {
    expect(() => parseEncodedQuery('justafield')).toThrow(QuerySyntaxError);
  });
});

describe('pruneQuery', () => {
  const known = (f: string) => ['state', 'short_description', 'number'].includes(f);

  it('drops terms and ORDERBYs on unknown fields and reports them', () => {
    const { query, invalid } = pruneQuery(
      parseEncodedQuery(
        'state=1^u_gone=x^ORshort_descriptionLIKEdeploy^ORDERBYu_rank^ORDERBYnumber',
      ),
      known,
    );
    expect(invalid.sort()).toEqual(['u_gone', 'u_rank']);
    expect(query.orderBy).toEqual([{ field: 'number', desc: false }]);
    // The OR group keeps its known alternative: (short_description LIKE deploy).
    expect(matches(query, { state: '1', short_description: 'deploy now' })).toBe(true);
    expect(matches(query, { state: '1', short_description: 'nothing' })).toBe(false);
    expect(matches(query, { state: '2', short_description: 'deploy now' })).toBe(false);
  });

  it('matches everything when a whole query consisted of unknown terms', () => {
    const { query } = pruneQuery(parseEncodedQuery('state=9^NQu_gone=x'), known);
    expect(matches(query, { state: '1' })).toBe(true);
  });
});
