import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { ReplayFilterError, matches, parseFilter } from '../../../src/commands/replay.js';

const dead = (
  headers: Record<string, string>,
  key = 'github/acme/payments/42',
): ConsumedRecord => ({
  topic: 'changegate.dlq',
  partition: 0,
  offset: '7',
  timestamp: 0,
  key,
  value: null,
  headers: {
    'changegate-origin-topic': 'changegate.cicd.events',
    'changegate-worker': 'change',
    'changegate-error': 'ServiceNow answered 503',
    ce_type: 'dev.changegate.deployment.requested',
    ...headers,
  },
});

describe('replay filters', () => {
  it('match by worker, type (full or suffix), error regex, key and origin topic, all ANDed', () => {
    const r = dead({});
    const f = (...texts: string[]) => matches(r, texts.map(parseFilter));
    expect(f('worker=change', 'type=deployment.requested', 'error~50[0-9]')).toBe(true);
    expect(f('type=dev.changegate.deployment.requested', 'key=github/acme/payments/42')).toBe(true);
    expect(f('topic=changegate.cicd.events')).toBe(true);
    expect(f('worker=incident')).toBe(false);
    expect(f('type=requested.x')).toBe(false);
    expect(f('worker=change', 'error~^timeout')).toBe(false);
    expect(matches(r, [])).toBe(true);
  });

  it('refuse an unknown field, a missing operator and a bad regex, naming the problem', () => {
    expect(() => parseFilter('colour=red')).toThrow(/unknown filter field "colour"/);
    expect(() => parseFilter('worker')).toThrow(/not field=value or field~regex/);
    expect(() => parseFilter('error~(')).toThrow(ReplayFilterError);
  });
});
