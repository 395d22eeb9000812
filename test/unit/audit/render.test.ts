import { describe, expect, it } from 'vitest';
import { link } from '../../../src/audit/chain.js';
import { lineage, selectKeys, toRow } from '../../../src/audit/lineage.js';
import { renderCsv } from '../../../src/audit/render.js';

const KEY = Buffer.alloc(32, 7);

const entry = (key: string, n: number, extra: Record<string, unknown> = {}) => ({
  id: `${key}-${n}`,
  at: `2026-11-25T09:00:0${n}.000Z`,
  key,
  actor: 'changegate/change',
  action: `a${n}`,
  ...extra,
});

describe('lineage selection and rendering', () => {
  const recv = link(
    'github/acme/pay/1',
    undefined,
    entry('github/acme/pay/1', 1, { correlationId: 'github/acme/pay/1' }),
    KEY,
  );
  const created = link(
    'CHG0010001',
    undefined,
    entry('CHG0010001', 2, { correlationId: 'github/acme/pay/1' }),
    KEY,
  );
  const released = link(
    'CHG0010001',
    created,
    entry('CHG0010001', 3, { detail: { callback: { status: 'done', httpStatus: 204 } } }),
    KEY,
  );
  const other = link('CHG0010002', undefined, entry('CHG0010002', 4), KEY);
  const records = [released, other, recv, created];

  it('follows a CR to the correlation ids its entries name, and orders by entry time', () => {
    const keys = selectKeys(records, { change: 'CHG0010001' });
    expect([...keys].sort()).toEqual(['CHG0010001', 'github/acme/pay/1']);
    expect(lineage(records, keys).map((r) => r.entry.id)).toEqual([
      'github/acme/pay/1-1',
      'CHG0010001-2',
      'CHG0010001-3',
    ]);
    expect(toRow(released)).toMatchObject({
      changeNumber: 'CHG0010001',
      callback: 'done (HTTP 204)',
    });
    expect([...selectKeys(records, { since: new Date('2026-11-25T09:00:04Z') })]).toEqual([
      'CHG0010002',
    ]);
  });

  it('writes RFC 4180 CSV and defuses spreadsheet formulas that came in with CI input', () => {
    const row = { ...toRow(created), reason: '=HYPERLINK("http://evil")', actor: 'a,b' };
    const csv = renderCsv([row]);
    const line = csv.split('\r\n')[1]!;
    expect(line).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(line).toContain('"a,b"');
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});
