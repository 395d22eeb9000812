import { randomBytes } from 'node:crypto';
import type { GateRegisteredData } from '../../src/events/gate.js';

/**
 * A realistic `gate.registered` for the benchmarks that seed many gates at once: a GitHub
 * deployment protection rule awaiting a CR's approval, with a sealed callback of real size.
 *
 * @module
 */

// A sealed callback is a compact JWE of a few hundred bytes; random base64url of that size.
const sealed = randomBytes(240).toString('base64url');

/** Gate `i` on CR `<prefix><1 000 000 + i>`. */
export function seededGate(i: number, prefix = 'CHG'): GateRegisteredData {
  const number = `${prefix}${String(1_000_000 + i)}`;
  return {
    gateId: `github/acme/payments/run-${i}-production`,
    changeNumber: number,
    changeSysId: randomBytes(16).toString('hex'),
    provider: 'github',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: `run-${i}-production`,
    correlationId: `github/acme/payments/run-${i}-production`,
    callback: {
      kind: 'github',
      url: `https://api.github.com/repos/acme/payments/actions/runs/${i}/deployment_protection_rule`,
      sealed,
      params: { environment: 'production' },
    },
    runUrl: `https://github.com/acme/payments/actions/runs/${i}`,
    policy: 'default',
    registeredAt: new Date().toISOString(),
    change: {
      sysId: randomBytes(16).toString('hex'),
      number,
      state: '-3',
      approval: 'requested',
      startDate: '2026-11-25 08:00:00',
      endDate: '2026-11-25 20:00:00',
      fields: {},
      modCount: 1,
      updatedAt: '2026-11-25 08:00:00',
    },
  };
}
