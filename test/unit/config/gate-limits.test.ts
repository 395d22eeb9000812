import { describe, expect, it } from 'vitest';
import { PROVIDER_GATE_LIMITS } from '../../../src/config/changes.js';
import { loadConfig } from '../../../src/config/load.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';

/** Load a config with these `changes` and `gates`; the issues when it is refused. */
function issuesOf(config: Pick<ConfigInput, 'changes' | 'gates'>): string[] {
  try {
    loadConfig({
      env: {},
      overrides: (raw) => Object.assign(raw, { bus: 'memory' }, config),
    });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

const DAY = 24 * 60;

describe('gate timeouts within the provider limits', () => {
  it('accepts the defaults and a 48 h gate for Azure DevOps', () => {
    expect(issuesOf({})).toEqual([]);
    expect(issuesOf({ gates: { policies: { default: { timeoutMinutes: 48 * 60 } } } })).toEqual([]);
  });

  it('refuses a gate longer than the 48 h Azure check token, naming the key, limit and policy', () => {
    const issues = issuesOf({
      changes: { policies: [{ name: 'production', match: { environment: 'prod*' } }] },
      gates: { policies: { default: { timeoutMinutes: 3 * DAY } } },
    });
    expect(issues).toEqual([
      expect.stringMatching(
        /^gates\.policies\.default\.timeoutMinutes: 4320 minutes is beyond the azure-devops limit of 2880 minutes \(48 h\): Azure DevOps' check AuthToken is valid 48 hours.*Change policy 'production' \(match\.provider '\*'\)/,
      ),
    ]);
  });

  it('refuses a gate longer than 30 days for GitHub, and both limits when both apply', () => {
    const issues = issuesOf({
      changes: { policies: [{ name: 'all', match: {}, gate: 'slow' }] },
      gates: { policies: { slow: { timeoutMinutes: 31 * DAY } } },
    });
    expect(issues).toHaveLength(2);
    expect(issues.join('\n')).toMatch(/beyond the azure-devops limit of 2880 minutes/);
    expect(issues.join('\n')).toMatch(
      /gates\.policies\.slow\.timeoutMinutes: 44640 minutes is beyond the github limit of 43200 minutes \(720 h\)/,
    );
  });

  it('lets providers without such a limit wait longer, when the policy cannot match a limited one', () => {
    expect(
      issuesOf({
        changes: {
          policies: [{ name: 'jenkins', match: { provider: 'jenkins' }, gate: 'week' }],
        },
        gates: { policies: { week: { timeoutMinutes: 7 * DAY } } },
      }),
    ).toEqual([]);
  });

  it('ignores uncontrolled policies (mode none never waits on a gate)', () => {
    expect(
      issuesOf({
        changes: { policies: [{ name: 'off', match: {}, mode: 'none', gate: 'week' }] },
        gates: { policies: { week: { timeoutMinutes: 7 * DAY } } },
      }),
    ).toEqual([]);
  });

  it('states the limits in minutes', () => {
    expect(PROVIDER_GATE_LIMITS['azure-devops']?.minutes).toBe(2880);
    expect(PROVIDER_GATE_LIMITS.github?.minutes).toBe(43_200);
  });
});
