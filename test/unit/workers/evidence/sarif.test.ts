import { describe, expect, it } from 'vitest';
import { parseSarif } from '../../../../src/workers/evidence/sarif.js';

const LOG = {
  version: '2.1.0',
  runs: [
    {
      tool: {
        driver: {
          name: 'CodeQL',
          rules: [
            { id: 'js/sql-injection', defaultConfiguration: { level: 'error' } },
            { id: 'js/unused-local', defaultConfiguration: { level: 'note' } },
          ],
        },
      },
      results: [
        { ruleId: 'js/unused-local', message: { text: 'unused x' } },
        {
          ruleIndex: 0,
          message: { text: 'query built from user input' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'src/db.js' },
                region: { startLine: 12 },
              },
            },
          ],
        },
        { ruleId: 'js/other', message: { text: 'no level anywhere' } },
        { ruleId: 'js/sql-injection', level: 'warning', message: { text: 'overridden' } },
        { ruleId: 'js/sql-injection', kind: 'pass', message: { text: 'checked' } },
        {
          ruleId: 'js/sql-injection',
          message: { text: 'waived' },
          suppressions: [{ kind: 'inSource' }],
        },
      ],
    },
  ],
};

describe('parseSarif', () => {
  it('resolves levels from the result, then the rule default, then warning; non-fail kinds are none', () => {
    const r = parseSarif(JSON.stringify(LOG))!;
    expect(r.counts).toEqual({ error: 1, warning: 2, note: 1, none: 1 });
    expect(r.suppressed).toBe(1);
    expect(r.tools).toEqual(['CodeQL']);
  });

  it('orders findings error first and keeps rule, location and message', () => {
    const r = parseSarif(JSON.stringify(LOG))!;
    expect(r.findings[0]).toEqual({
      level: 'error',
      ruleId: 'js/sql-injection',
      message: 'query built from user input',
      location: 'src/db.js:12',
      tool: 'CodeQL',
    });
    expect(r.findings.map((f) => f.level)).toEqual(['error', 'warning', 'warning', 'note']);
  });

  it('returns undefined for text that is not a SARIF log', () => {
    expect(parseSarif(JSON.stringify(LOG).slice(0, 100))).toBeUndefined();
    expect(parseSarif('{"version":"2.1.0"}')).toBeUndefined();
  });
});
