import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  decodeEntry,
  encodeEntry,
  entryChanged,
  nextEntry,
} from '../../../../src/workers/stateful/changelog.js';

const Counter = z.object({ count: z.number().int(), seen: z.array(z.string()).default([]) });

describe('changelog entries', () => {
  it('round-trips an entry and parses the state with the given schema (defaults applied)', () => {
    const value = encodeEntry({ state: { count: 2, seen: ['a'] }, timers: { remind: 1000 } });
    expect(decodeEntry(Counter, value)).toEqual({
      ok: true,
      entry: { state: { count: 2, seen: ['a'] }, timers: { remind: 1000 } },
    });
    expect(decodeEntry(Counter, Buffer.from('{"state":{"count":1}}'))).toEqual({
      ok: true,
      entry: { state: { count: 1, seen: [] }, timers: {} },
    });
    expect(decodeEntry(Counter, null)).toEqual({ ok: true, entry: null });
  });

  it('reports a poison record instead of throwing', () => {
    for (const raw of ['not json', '{"state":{"count":"two"}}', '{"timers":{}}', '[]']) {
      const decoded = decodeEntry(Counter, Buffer.from(raw));
      expect(decoded.ok, raw).toBe(false);
    }
    const bad = decodeEntry(Counter, Buffer.from('{"state":{"count":1},"timers":{"x":-5}}'));
    expect(bad.ok).toBe(false);
  });

  it('applies an outcome: keep, replace or forget the state; set, cancel and fire timers', () => {
    const current = { state: { count: 1, seen: [] }, timers: { a: 10, b: 20 } };
    expect(nextEntry(current, {})).toEqual(current);
    expect(nextEntry(current, { state: { count: 2, seen: [] } })).toEqual({
      state: { count: 2, seen: [] },
      timers: { a: 10, b: 20 },
    });
    expect(nextEntry(current, { timers: { a: null, c: 30.4 } })).toEqual({
      state: current.state,
      timers: { b: 20, c: 30 },
    });
    expect(nextEntry(current, {}, 'a')).toEqual({ state: current.state, timers: { b: 20 } });
    expect(nextEntry(current, { timers: { a: 99 } }, 'a')!.timers).toEqual({ a: 99, b: 20 });
    expect(nextEntry(current, { state: null, timers: { c: 1 } })).toBeNull();
    expect(nextEntry(undefined, {})).toBeUndefined();
    expect(nextEntry(undefined, { state: null })).toBeNull();
    expect(() => nextEntry(undefined, { timers: { a: 1 } })).toThrow(TypeError);
  });

  it('writes only what changed', () => {
    const e = { state: { count: 1, seen: [] }, timers: {} };
    expect(entryChanged(e, undefined)).toBe(false);
    expect(entryChanged(e, { state: { count: 1, seen: [] }, timers: {} })).toBe(false);
    expect(entryChanged(e, { state: { count: 2, seen: [] }, timers: {} })).toBe(true);
    expect(entryChanged(e, null)).toBe(true);
    expect(entryChanged(undefined, null)).toBe(false);
    expect(entryChanged(undefined, e)).toBe(true);
  });
});
