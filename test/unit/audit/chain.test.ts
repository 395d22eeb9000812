import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/audit/canonical-json.js';
import {
  GENESIS_HASH,
  chainHash,
  describeBreak,
  dropRepeats,
  link,
  verifyChains,
  type LedgerRecord,
} from '../../../src/audit/chain.js';
import type { AuditLine } from '../../../src/audit/entry.js';

/** Any 32 bytes: these tests are about the chain, not the signature. */
const KEY = Buffer.alloc(32, 7);

const line = (key: string, n: number, extra: Partial<AuditLine> = {}): AuditLine => ({
  id: `${key}-${n}`,
  at: new Date(Date.UTC(2026, 10, 25, 9, 0, n)).toISOString(),
  key,
  actor: 'changegate/gate',
  action: `step-${n}`,
  reason: `because ${n}`,
  ...extra,
});

/** Chains for the given keys, interleaved in ledger order. */
function ledger(keys: string[], perKey: number): LedgerRecord[] {
  const heads = new Map<string, { seq: number; hash: string }>();
  const out: LedgerRecord[] = [];
  for (let n = 1; n <= perKey; n++) {
    for (const key of keys) {
      const r = link(key, heads.get(key), line(key, n), KEY);
      heads.set(key, { seq: r.seq, hash: r.hash });
      out.push(r);
    }
  }
  return out;
}

describe('canonicalJson', () => {
  it('writes the same bytes for the same value whatever order its keys were built in', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
    );
  });

  it('refuses values JSON would silently change', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});

describe('the audit hash chain', () => {
  it('links the first entry of a key to the genesis hash and each next one to the previous hash', () => {
    const [a1, b1, a2] = ledger(['CHG0010001', 'CHG0010002'], 2);
    expect(a1).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(b1).toMatchObject({ key: 'CHG0010002', seq: 1, prevHash: GENESIS_HASH });
    expect(a2).toMatchObject({ seq: 2, prevHash: a1!.hash });
    expect(a2!.hash).toBe(chainHash(a1!.hash, 'CHG0010001', 2, a2!.entry));
  });

  it('verifies untouched interleaved chains', () => {
    expect(verifyChains(ledger(['CHG1', 'CHG2', 'github/a/b/1'], 5))).toBeUndefined();
  });

  it('names the altered entry when a reason is edited', () => {
    const records = ledger(['CHG0010001'], 4);
    records[2] = { ...records[2]!, entry: { ...records[2]!.entry, reason: 'approved by nobody' } };
    const broken = verifyChains(records);
    expect(broken).toMatchObject({ key: 'CHG0010001', seq: 3, entryId: 'CHG0010001-3' });
    expect(describeBreak(broken!)).toBe(
      'CHG0010001 seq 3 (entry CHG0010001-3): hash does not match the entry (the entry was altered)',
    );
  });

  it('detects an edit whose hash was recomputed, at the entry after it', () => {
    const records = ledger(['CHG0010001'], 4);
    const forged = { ...records[1]!.entry, action: 'gate.released' };
    records[1] = {
      ...records[1]!,
      entry: forged,
      hash: chainHash(records[1]!.prevHash, 'CHG0010001', 2, forged),
    };
    expect(verifyChains(records)).toMatchObject({
      seq: 3,
      reason: expect.stringMatching(/prevHash/),
    });
  });

  it('detects a dropped, a reordered and a moved entry', () => {
    const dropped = ledger(['CHG1'], 4).filter((r) => r.seq !== 2);
    expect(verifyChains(dropped)).toMatchObject({
      seq: 3,
      reason: 'sequence 3 where 2 was expected',
    });

    const swapped = ledger(['CHG1'], 3);
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    expect(verifyChains(swapped)?.seq).toBe(2);

    const moved = ledger(['CHG1', 'CHG2'], 2).map((r) =>
      r.key === 'CHG2' && r.seq === 2 ? { ...r, key: 'CHG1' } : r,
    );
    expect(verifyChains(moved)?.reason).toMatch(/filed under CHG1/);
  });

  it('detects a re-published copy of an earlier entry appended to the ledger', () => {
    const records = ledger(['CHG1'], 3);
    records.push({ ...records[0]!, entry: { ...records[0]!.entry, reason: 'edited' } });
    expect(verifyChains(records)).toMatchObject({
      seq: 1,
      reason: 'sequence 1 where 4 was expected',
    });
  });

  it('counts an append repeated byte for byte (after a crash) once, and keeps a fork to report', () => {
    const records = ledger(['CHG1', 'CHG2'], 3);
    const cut = records.findIndex((r) => r.key === 'CHG1' && r.seq === 2);
    // Appended, then the worker died before saving the head: the line is appended again.
    const repeated = [
      ...records.slice(0, cut + 1),
      { ...records[cut]! },
      ...records.slice(cut + 1),
    ];
    const { records: kept, repeats } = dropRepeats(repeated);
    expect(repeats).toHaveLength(1);
    expect(kept).toEqual(records);
    expect(verifyChains(kept)).toBeUndefined();

    // A second seq 2 with another entry is a fork, not a repeat.
    const other = link('CHG1', { seq: 1, hash: records[0]!.hash }, line('CHG1', 9), KEY);
    const forked = [...records.slice(0, cut + 1), other, ...records.slice(cut + 1)];
    expect(dropRepeats(forked).repeats).toHaveLength(0);
    expect(verifyChains(dropRepeats(forked).records)).toMatchObject({
      key: 'CHG1',
      seq: 2,
      reason: 'sequence 2 where 3 was expected',
    });

    // A copy whose entry was edited while its hash was kept is no repeat either.
    const edited = { ...records[cut]!, entry: { ...records[cut]!.entry, reason: 'edited' } };
    const withEdit = [...records.slice(0, cut + 1), edited, ...records.slice(cut + 1)];
    expect(dropRepeats(withEdit).repeats).toHaveLength(0);
    expect(verifyChains(dropRepeats(withEdit).records)).toBeDefined();
  });
});
