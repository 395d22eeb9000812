import { describe, expect, it } from 'vitest';
import { nextLink, type HookDeliveryItem } from '../../../../src/providers/github/app-hooks.js';
import { parseSince, toRedeliver } from '../../../../src/commands/recover-github.js';

const d = (id: number, guid: string, status: string): HookDeliveryItem => ({
  id,
  guid,
  status,
  delivered_at: '2026-12-01T09:00:00Z',
  redelivery: false,
  status_code: status === 'OK' ? 200 : 502,
  event: 'workflow_run',
  action: 'completed',
});

describe('toRedeliver (GitHub: group by guid, skip any guid delivered OK)', () => {
  it('picks the newest attempt of every guid that never succeeded', () => {
    // Newest first, as GitHub lists them.
    const picks = toRedeliver([
      d(6, 'b', 'failed to connect'),
      d(5, 'c', 'OK'),
      d(4, 'a', 'Invalid HTTP Response: 503'),
      d(3, 'c', 'failed to connect'),
      d(2, 'b', 'failed to connect'),
      d(1, 'd', 'OK'),
    ]);
    expect(picks.map((p) => p.id)).toEqual([6, 4]);
  });

  it('picks nothing when every guid got through once', () => {
    expect(toRedeliver([d(2, 'a', 'OK'), d(1, 'a', 'failed to connect')])).toEqual([]);
  });
});

describe('nextLink', () => {
  it('reads rel="next" among other relations', () => {
    expect(
      nextLink(
        '<https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_12077215967>; rel="next", <https://api.github.com/app/hook/deliveries?per_page=2>; rel="first"',
      ),
    ).toBe('https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_12077215967');
    expect(nextLink('<https://x.test/a>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });
});

describe('parseSince', () => {
  const now = Date.UTC(2026, 11, 1, 10, 0, 0);
  it.each([
    ['90m', now - 90 * 60_000],
    ['6h', now - 6 * 3_600_000],
    ['3d', now - 3 * 86_400_000],
    ['2026-12-01T08:00:00Z', Date.UTC(2026, 11, 1, 8, 0, 0)],
  ])('%s', (value, expected) => {
    expect(parseSince(value, now)).toBe(expected);
  });
  it.each(['yesterday', '5', '-3d', ''])('refuses %j, naming the accepted forms', (value) => {
    expect(() => parseSince(value, now)).toThrow(/ISO time .* or a duration/);
  });
});
