/**
 * Canonical JSON for hashing: object keys sorted by UTF-16 code units at every depth, no
 * whitespace, `undefined` members left out (as JSON.stringify does). Two writers that hold the
 * same value produce the same bytes whatever order they built the object in, so a hash over it
 * is a hash over the value, not over one serialization of it (the idea of RFC 8785; numbers are
 * written by JSON.stringify, which is what RFC 8785 prescribes for IEEE 754 doubles).
 *
 * @module
 */

/**
 * @throws TypeError for values JSON cannot represent faithfully (non-finite numbers, bigint,
 *   functions, symbols): a hash over a lossy encoding would verify things that differ.
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot hash the number ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      }
      const members = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot hash a ${typeof value}`);
  }
}
