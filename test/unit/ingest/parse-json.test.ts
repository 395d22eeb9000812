import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../src/errors.js';
import { parseJson } from '../../../src/ingest/parse-json.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('parseJson', () => {
  it('parses a JSON object', () => {
    expect(parseJson(bytes('{"a":[1,2]}'))).toEqual({ a: [1, 2] });
  });

  it.each([
    ['an empty body', '', 'invalid_json'],
    ['a truncated document', '{"a":', 'invalid_json'],
    ['plain text', 'hello', 'invalid_json'],
  ])('rejects %s with reason %s', (_, body, reason) => {
    expect(() => parseJson(bytes(body))).toThrow(PayloadError);
    try {
      parseJson(bytes(body));
    } catch (err) {
      expect((err as PayloadError).reason).toBe(reason);
    }
  });

  it('rejects bytes that are not UTF-8', () => {
    const err = (() => {
      try {
        parseJson(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
      } catch (e) {
        return e as PayloadError;
      }
    })();
    expect(err?.reason).toBe('invalid_encoding');
  });

  it('drops prototype-pollution keys at any depth', () => {
    const parsed = parseJson(
      bytes('{"a":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"ok":1}}'),
    ) as { a: Record<string, unknown> };
    expect(parsed.a).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(parsed.a)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops a prototype key written with JSON escapes', () => {
    const parsed = parseJson(
      bytes('{"\\u005f_proto__":{"polluted":true},"ok":"caf\\u00e9"}'),
    ) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['ok']);
    expect(parsed.ok).toBe('café');
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});
