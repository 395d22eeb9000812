import { describe, expect, it } from 'vitest';
import { ChangePolicySchema } from '../../../../src/config/changes.js';
import { DeploymentDataSchema } from '../../../../src/events/cicd.js';
import { linkVerdict } from '../../../../src/workers/change/link.js';

const policy = (link: Record<string, unknown> = {}) =>
  ChangePolicySchema.parse({ name: 'p', match: {}, link: { byNumber: true, ...link } });
const deployment = DeploymentDataSchema.parse({
  provider: 'github',
  project: 'acme/b',
  event: 'deployment_protection_rule',
  deliveryId: 'd-1',
  raw: { truncated: false, bytes: 2, payload: {} },
  environment: 'production',
  deploymentId: 'run-7',
  correlationId: 'github/acme/b/run-7',
});
const GROUP = 'd625dccec0a8016700a222a0f7900d06';

describe('whether a named CR may gate a deployment', () => {
  it('accepts the CR bound to this deployment, without binding it again', () => {
    expect(
      linkVerdict(
        policy(),
        deployment,
        { number: 'CHG1', correlation_id: 'github/acme/b/run-7' },
        'github/acme/b/run-7',
      ),
    ).toMatchObject({ ok: true, bind: false });
  });

  it("refuses another project's CR even where reuse is allowed", () => {
    const v = linkVerdict(
      policy({ allowReuse: true }),
      deployment,
      { number: 'CHG1', correlation_id: 'github/acme/a/run-3' },
      'github/acme/b/run-7',
    );
    expect(v).toMatchObject({ ok: false, reason: 'bound-elsewhere' });
  });

  it('reuses a CR of the same project only when the policy allows it', () => {
    const cr = { number: 'CHG1', correlation_id: 'github/acme/b/run-6' };
    expect(linkVerdict(policy(), deployment, cr, 'github/acme/b/run-7').ok).toBe(false);
    expect(
      linkVerdict(policy({ allowReuse: true }), deployment, cr, 'github/acme/b/run-7').ok,
    ).toBe(true);
  });

  it('refuses a hand-raised CR unless it carries what the policy names, then binds it', () => {
    const cr = { number: 'CHG2', correlation_id: '', assignment_group: GROUP };
    expect(linkVerdict(policy(), deployment, cr, 'x')).toMatchObject({
      ok: false,
      reason: 'not-bound',
    });
    expect(linkVerdict(policy({ assignmentGroup: 'other' }), deployment, cr, 'x')).toMatchObject({
      ok: false,
      reason: 'not-bound',
    });
    expect(linkVerdict(policy({ assignmentGroup: GROUP }), deployment, cr, 'x')).toMatchObject({
      ok: true,
      bind: true,
    });
  });

  it('links by number only where a policy enables it', () => {
    expect(ChangePolicySchema.parse({ name: 'p', match: {} }).link.byNumber).toBe(false);
  });
});
