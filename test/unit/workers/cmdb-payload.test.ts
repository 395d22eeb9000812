import { describe, expect, it } from 'vitest';
import { CmdbSchema } from '../../../src/config/cmdb.js';
import { reconcileProblems } from '../../../src/workers/cmdb.js';
import { reconcilePlan, versionOf, type Installed } from '../../../src/workers/cmdb/payload.js';
import { resolveCmdbPolicy } from '../../../src/workers/cmdb/policy.js';

const installed = (extra: Partial<Installed> = {}): Installed => ({
  provider: 'github',
  project: 'acme/payments',
  environment: 'production',
  pipeline: 'deploy',
  commit: { sha: 'abcdef0123456789', ref: 'refs/heads/main' },
  labels: [],
  ...extra,
});

const policyOf = (input: unknown) => CmdbSchema.parse({ policies: [input] }).policies[0]!;

describe('versionOf', () => {
  it('prefers a version label, then a tag, then the short sha', () => {
    expect(versionOf(installed({ labels: ['team-a', 'version:2.3.0'] }))).toBe('2.3.0');
    expect(versionOf(installed({ commit: { sha: 'abcdef0123', ref: 'refs/tags/v1.4.0' } }))).toBe(
      'v1.4.0',
    );
    expect(versionOf(installed())).toBe('abcdef0');
    expect(versionOf(installed({ commit: {} }))).toBe('');
  });
});

describe('reconcilePlan', () => {
  it('registers the application CI with its version and relates it to the host of the environment', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'apps',
        ci: { values: { short_description: 'Deployed by {{provider}}' } },
        relations: [
          {
            type: 'Runs on::Runs',
            className: 'cmdb_ci_kubernetes_cluster',
            byEnvironment: { production: 'k8s-prod', staging: 'k8s-stage' },
          },
          { type: 'Depends on::Used by', className: 'cmdb_ci_db_instance', name: 'payments-db' },
        ],
      }),
      installed(),
    );
    expect(plan.items).toEqual([
      {
        className: 'cmdb_ci_appl',
        values: {
          name: 'acme/payments',
          version: 'abcdef0',
          short_description: 'Deployed by github',
        },
      },
      { className: 'cmdb_ci_kubernetes_cluster', values: { name: 'k8s-prod' } },
      { className: 'cmdb_ci_db_instance', values: { name: 'payments-db' } },
    ]);
    expect(plan.relations).toEqual([
      { parent: 0, child: 1, type: 'Runs on::Runs' },
      { parent: 0, child: 2, type: 'Depends on::Used by' },
    ]);
  });

  it('skips a relation whose environment names no target and shares one item per target', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'apps',
        relations: [
          {
            type: 'Runs on::Runs',
            className: 'cmdb_ci_linux_server',
            byEnvironment: { staging: 'web-s' },
          },
          {
            type: 'Depends on::Used by',
            className: 'cmdb_ci_linux_server',
            name: 'web-{{environment}}',
          },
          {
            type: 'Hosted on::Hosts',
            className: 'cmdb_ci_linux_server',
            name: 'web-{{environment}}',
          },
        ],
      }),
      installed(),
    );
    expect(plan.items).toHaveLength(2);
    expect(plan.items[1]!.values).toEqual({ name: 'web-production' });
    expect(plan.relations.map((r) => r.type)).toEqual(['Depends on::Used by', 'Hosted on::Hosts']);
  });

  it('puts an image CI as the parent of the application it contains', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'images',
        kind: 'image',
        match: { pipeline: 'build-image*' },
        ci: { name: '{{project}}-image' },
        relations: [
          { type: 'Contains::Contained by', className: 'cmdb_ci_appl', name: '{{project}}' },
        ],
      }),
      installed({ environment: '', pipeline: 'build-image' }),
    );
    expect(plan.ci).toEqual({
      className: 'cmdb_ci_os_image',
      name: 'acme/payments-image',
      version: 'abcdef0',
    });
    expect(plan.items[1]).toEqual({ className: 'cmdb_ci_appl', values: { name: 'acme/payments' } });
    expect(plan.relations).toEqual([{ parent: 0, child: 1, type: 'Contains::Contained by' }]);
  });

  it('relates the CI as child when the relation says so', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'a',
        relations: [
          {
            type: 'Depends on::Used by',
            className: 'cmdb_ci_service',
            name: 'Online Banking',
            ciIs: 'child',
          },
        ],
      }),
      installed(),
    );
    expect(plan.relations).toEqual([{ parent: 1, child: 0, type: 'Depends on::Used by' }]);
  });

  it('refuses a CI name that renders empty', () => {
    expect(() =>
      reconcilePlan(policyOf({ name: 'a', ci: { name: '{{nothing}}' } }), installed()),
    ).toThrow(/renders empty/);
  });
});

describe('cmdb policies and answers', () => {
  it('matches image policies only for pipelines the policy names', () => {
    const { policies } = CmdbSchema.parse({
      policies: [
        { name: 'images', kind: 'image', match: { pipeline: 'build-image*' } },
        { name: 'apps', match: { environment: 'prod*' } },
      ],
    });
    expect(
      resolveCmdbPolicy(policies, 'image', installed({ pipeline: 'build-image-arm' }))?.name,
    ).toBe('images');
    expect(resolveCmdbPolicy(policies, 'image', installed({ pipeline: 'CI' }))).toBeUndefined();
    expect(resolveCmdbPolicy(policies, 'application', installed())?.name).toBe('apps');
    expect(
      resolveCmdbPolicy(policies, 'application', installed({ environment: 'dev' })),
    ).toBeUndefined();
  });

  it('rejects a relation config without a target', () => {
    expect(() =>
      CmdbSchema.parse({
        policies: [{ name: 'a', relations: [{ type: 'Runs on::Runs', className: 'cmdb_ci_x' }] }],
      }),
    ).toThrow(/name or byEnvironment/);
  });

  it('lists item and relation errors of an identifyreconcile answer', () => {
    expect(
      reconcileProblems({
        items: [
          {
            className: 'x',
            operation: undefined,
            sysId: undefined,
            errors: [{ error: 'MISSING_MATCHING_ATTRIBUTES', message: 'Add values for [name]' }],
          },
        ],
        relations: [{ errors: [{ error: 'INVALID_INPUT_DATA', message: 'bad' }] }],
      }),
    ).toEqual([
      'item 0: MISSING_MATCHING_ATTRIBUTES Add values for [name]',
      'relation 0: INVALID_INPUT_DATA bad',
    ]);
  });
});
