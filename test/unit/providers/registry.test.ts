import { describe, expect, it } from 'vitest';
import { CiSchema } from '../../../src/config/ci.js';
import { SourcesSchema } from '../../../src/config/schema.js';
import { CallbackSchema, PROVIDERS as EVENT_PROVIDERS } from '../../../src/events/common.js';
import { PROVIDERS } from '../../../src/providers/index.js';
import type { Provider } from '../../../src/providers/types.js';
import { RECEIVERS } from '../../../src/receivers/registry.js';

const listed = PROVIDERS as readonly Provider[];

describe('the provider list', () => {
  it('names each provider, sources key and ci key once', () => {
    const names = listed.map((p) => p.name);
    const sources = listed.map((p) => p.source.key);
    const ci = listed.flatMap((p) => (p.ci ? [p.ci.key] : []));
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(sources).size).toBe(sources.length);
    expect(new Set(ci).size).toBe(ci.length);
  });

  it('mounts one /hooks route per provider, in list order', () => {
    expect(Object.keys(RECEIVERS)).toEqual(listed.map((p) => p.name));
    for (const p of listed) expect(RECEIVERS[p.name]?.receiver).toBe(p.receiver);
    expect(RECEIVERS['azure-devops']?.ackWithinMs).toBe(2_500);
  });

  it('puts every fragment under its key of sources: and ci:', () => {
    for (const p of listed) {
      expect(SourcesSchema.unwrap().shape).toHaveProperty(p.source.key, p.source.schema);
      if (p.ci) expect(CiSchema.unwrap().shape).toHaveProperty(p.ci.key, p.ci.schema);
    }
  });

  // events/ imports nothing of ours, so its provider names are a list of their own: a new
  // provider with a callback is named there too.
  it('has a callback client for exactly the callback kinds events know', () => {
    const withCallback = listed.filter((p) => p.callback).map((p) => p.name);
    expect([...withCallback].sort()).toEqual([...CallbackSchema.shape.kind.options].sort());
    expect([...withCallback].sort()).toEqual([...EVENT_PROVIDERS].sort());
  });
});
