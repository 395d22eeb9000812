import { describe, expect, it } from 'vitest';
import {
  ChangePolicySchema,
  ChangesSchema,
  type ChangePolicy,
} from '../../../src/config/changes.js';
import { DeploymentDataSchema, type DeploymentData } from '../../../src/events/cicd.js';
import { globMatch } from '../../../src/policy/glob.js';
import { changeKind, resolvePolicy, templateVars } from '../../../src/policy/resolve.js';
import { render } from '../../../src/policy/template.js';

function deployment(overrides: Record<string, unknown> = {}): DeploymentData {
  return DeploymentDataSchema.parse({
    provider: 'gitlab',
    project: 'acme/payments',
    event: 'Deployment Hook',
    deliveryId: 'd-1',
    raw: { truncated: false, bytes: 0, payload: null },
    environment: 'production',
    deploymentId: '1542',
    correlationId: 'gitlab/acme/payments/1542',
    run: { id: '796001', url: 'https://gitlab.example/acme/payments/-/jobs/796001' },
    commit: { sha: '279484c09fbe69ededfced8c1bb6e6d24616b468', ref: 'refs/heads/main' },
    actor: 'mona',
    ...overrides,
  });
}

const policy = (input: Record<string, unknown>): ChangePolicy =>
  ChangePolicySchema.parse({ name: 'p', ...input });

describe('globMatch', () => {
  it.each([
    ['*', '', true],
    ['*', 'acme/payments', true],
    ['acme/*', 'acme/payments', true],
    ['acme/*', 'acme/team/payments', true],
    ['acme/*', 'acmex/payments', false],
    ['prod*', 'production', true],
    ['prod*', 'preprod', false],
    ['*-eu', 'prod-eu', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['production', 'production', true],
    ['production', 'production-eu', false],
  ])('%s against %s is %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('treats regex characters as literals', () => {
    expect(globMatch('v1.2', 'v1.2')).toBe(true);
    expect(globMatch('v1.2', 'v1x2')).toBe(false);
    expect(globMatch('a+(b)', 'a+(b)')).toBe(true);
    expect(globMatch('a+(b)', 'aa(b)')).toBe(false);
    expect(globMatch('[prod]', 'p')).toBe(false);
  });
});

describe('resolvePolicy', () => {
  const policies = [
    policy({ name: 'payments-prod', match: { project: 'acme/payments', environment: 'prod*' } }),
    policy({
      name: 'jenkins-any',
      match: { provider: 'jenkins' },
      mode: 'standard',
      template: 't',
    }),
    policy({ name: 'all-prod', match: { environment: 'prod*' }, mode: 'emergency' }),
    policy({ name: 'rest', mode: 'none' }),
  ];

  it('takes the first policy whose match fits, in order', () => {
    expect(resolvePolicy(policies, deployment())?.name).toBe('payments-prod');
    expect(resolvePolicy(policies, deployment({ project: 'acme/ledger' }))?.name).toBe('all-prod');
    expect(resolvePolicy(policies, deployment({ provider: 'jenkins' }))?.name).toBe(
      'payments-prod',
    );
    expect(
      resolvePolicy(policies, deployment({ provider: 'jenkins', environment: 'staging' }))?.name,
    ).toBe('jenkins-any');
    expect(resolvePolicy(policies, deployment({ environment: 'staging' }))?.name).toBe('rest');
  });

  it('finds nothing when no policy matches', () => {
    expect(resolvePolicy(policies.slice(0, 3), deployment({ environment: 'dev' }))).toBeUndefined();
    expect(resolvePolicy([], deployment())).toBeUndefined();
  });

  it('controls production and nothing else by default', () => {
    const defaults = ChangesSchema.parse({}).policies;
    expect(resolvePolicy(defaults, deployment())).toMatchObject({
      name: 'production',
      mode: 'normal',
    });
    expect(resolvePolicy(defaults, deployment({ environment: 'staging' }))).toMatchObject({
      name: 'uncontrolled',
      mode: 'none',
    });
  });
});

describe('changeKind', () => {
  const normal = policy({ mode: 'normal' });

  it('keeps the policy mode for an ordinary deployment', () => {
    expect(changeKind(normal, deployment())).toBe('normal');
    expect(changeKind(policy({ mode: 'standard', template: 't' }), deployment())).toBe('standard');
  });

  it('makes an emergency change when the pipeline flags one', () => {
    expect(changeKind(normal, deployment({ emergency: true }))).toBe('emergency');
    const noFlag = policy({ emergencyWhen: { flag: false } });
    expect(changeKind(noFlag, deployment({ emergency: true }))).toBe('normal');
  });

  it('makes an emergency change for an emergency label, case-insensitively', () => {
    expect(changeKind(normal, deployment({ labels: ['pci', 'Hotfix'] }))).toBe('emergency');
    expect(changeKind(normal, deployment({ labels: ['pci'] }))).toBe('normal');
    const custom = policy({ emergencyWhen: { labels: ['p1'] } });
    expect(changeKind(custom, deployment({ labels: ['hotfix'] }))).toBe('normal');
    expect(changeKind(custom, deployment({ labels: ['P1'] }))).toBe('emergency');
    const upper = policy({ emergencyWhen: { labels: ['SEV1'] } });
    expect(changeKind(upper, deployment({ labels: ['sev1'] }))).toBe('emergency');
  });

  it('makes an emergency change for a hotfix branch, with or without refs/heads/', () => {
    const on = (ref: string) => deployment({ commit: { sha: 'abc', ref } });
    expect(changeKind(normal, on('refs/heads/hotfix/PAY-12'))).toBe('emergency');
    expect(changeKind(normal, on('hotfix/PAY-12'))).toBe('emergency');
    expect(changeKind(normal, on('refs/heads/main'))).toBe('normal');
    expect(changeKind(normal, on('refs/heads/feature/hotfix/x'))).toBe('normal');
    expect(changeKind(normal, deployment({ commit: {} }))).toBe('normal');
  });

  it('never escalates a policy that creates nothing', () => {
    const urgent = deployment({ emergency: true, labels: ['hotfix'] });
    expect(changeKind(policy({ mode: 'none' }), urgent)).toBe('none');
    expect(changeKind(policy({ mode: 'link' }), urgent)).toBe('link');
  });
});

describe('render', () => {
  it('fills nested placeholders from the deployment', () => {
    const vars = templateVars(deployment());
    expect(
      render(
        'Deploy {{project}} {{commit.short}} to {{ environment }} by {{actor}} ({{ref}})',
        vars,
      ),
    ).toBe('Deploy acme/payments 279484c to production by mona (refs/heads/main)');
    expect(render('{{run.url}}', vars)).toBe('https://gitlab.example/acme/payments/-/jobs/796001');
    expect(render('{{commit.sha}}', vars)).toBe('279484c09fbe69ededfced8c1bb6e6d24616b468');
  });

  it('renders what is missing as empty rather than failing', () => {
    const vars = templateVars(deployment({ run: undefined, actor: undefined, commit: {} }));
    expect(render('[{{run.url}}|{{actor}}|{{commit.short}}|{{ref}}|{{nope.deeper}}]', vars)).toBe(
      '[||||]',
    );
  });

  it('leaves text without placeholders alone', () => {
    expect(render('Deploy {project} {{ }}', {})).toBe('Deploy {project} {{ }}');
  });

  it('renders the default descriptions of a policy', () => {
    const p = policy({});
    const vars = templateVars(deployment());
    expect(render(p.shortDescription, vars)).toBe('Deploy acme/payments 279484c to production');
    expect(render(p.description, vars)).toContain(
      'Commit: 279484c09fbe69ededfced8c1bb6e6d24616b468 (refs/heads/main)',
    );
  });
});
