import { describe, expect, it } from 'vitest';
import { CmdbSchema } from '../../../../src/config/cmdb.js';
import { reconcileProblems } from '../../../../src/workers/cmdb/index.js';
import {
  MissingHostError,
  reconcilePlan,
  versionOf,
  type Installed,
} from '../../../../src/workers/cmdb/payload.js';
import { resolveCmdbPolicy } from '../../../../src/workers/cmdb/policy.js';

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

/** The relation every application policy needs: the host it runs on, per environment. */
const HOST = {
  type: 'Runs on::Runs',
  className: 'cmdb_ci_linux_server',
  byEnvironment: { production: 'web-01', staging: 'web-s' },
};

describe('reconcilePlan', () => {
  it('registers the application CI with its running process and relates it to the host of the environment', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'apps',
        ci: { values: { short_description: 'Deployed by {{provider}}' } },
        relations: [
          HOST,
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
          running_process_command: 'acme/payments',
          running_process_key_parameters: 'environment=production',
          short_description: 'Deployed by github',
        },
      },
      { className: 'cmdb_ci_linux_server', values: { name: 'web-01' } },
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
          { type: 'Runs on::Runs', className: 'cmdb_ci_linux_server', name: 'web-{{environment}}' },
          {
            type: 'Depends on::Used by',
            className: 'cmdb_ci_linux_server',
            name: 'web-{{environment}}',
          },
        ],
      }),
      installed(),
    );
    expect(plan.items).toHaveLength(2);
    expect(plan.items[1]!.values).toEqual({ name: 'web-production' });
    expect(plan.relations.map((r) => r.type)).toEqual(['Runs on::Runs', 'Depends on::Used by']);
  });

  it('refuses to build a payload for an environment whose host is not configured', () => {
    expect(() =>
      reconcilePlan(
        policyOf({ name: 'apps', relations: [HOST] }),
        installed({ environment: 'dev' }),
      ),
    ).toThrow(MissingHostError);
  });

  it('registers an image build as a Docker image, never the non-existent cmdb_ci_os_image', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'images',
        kind: 'image',
        match: { pipeline: 'build-image*' },
        ci: { name: '{{project}}-image' },
      }),
      installed({ environment: '', pipeline: 'build-image', labels: ['version:1.4.0'] }),
    );
    expect(plan.ci).toEqual({
      className: 'cmdb_ci_docker_image',
      name: 'acme/payments-image',
      version: '1.4.0',
    });
    expect(plan.items[0]!.values).toMatchObject({ image_id: 'acme/payments:1.4.0', tag: '1.4.0' });
    expect(plan.relations).toEqual([]);
  });

  it('relates the CI as child when the relation says so', () => {
    const plan = reconcilePlan(
      policyOf({
        name: 'a',
        relations: [
          HOST,
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
    expect(plan.relations).toContainEqual({ parent: 2, child: 0, type: 'Depends on::Used by' });
  });

  it('refuses a CI name that renders empty', () => {
    expect(() =>
      reconcilePlan(
        policyOf({ name: 'a', ci: { name: '{{nothing}}' }, relations: [HOST] }),
        installed(),
      ),
    ).toThrow(/renders empty/);
  });
});

describe('cmdb policies the base identification rules would refuse are refused at start-up', () => {
  const problem = (policy: unknown) => {
    const r = CmdbSchema.safeParse({ policies: [policy] });
    return r.success ? '' : r.error.issues.map((i) => i.message).join('\n');
  };

  it('refuses cmdb_ci_os_image and names the classes to use instead', () => {
    expect(problem({ name: 'img', kind: 'image', ci: { className: 'cmdb_ci_os_image' } })).toMatch(
      /cmdb_ci_os_image is not a base CMDB class: use cmdb_ci_docker_image/,
    );
  });

  it('refuses an unknown class unless its identifying attributes are declared', () => {
    expect(problem({ name: 'x', ci: { className: 'cmdb_ci_x' } })).toMatch(
      /not a class changegate knows.*ci\.identifiedBy/,
    );
    expect(
      problem({
        name: 'x',
        ci: {
          className: 'cmdb_ci_u_thing',
          identifiedBy: ['u_key'],
          values: { u_key: '{{project}}' },
        },
      }),
    ).toBe('');
  });

  it('refuses an application CI without the host relation its dependent rule needs, naming the fix', () => {
    expect(problem({ name: 'apps' })).toMatch(
      /MISSING_DEPENDENCY.*add relations: \[\{ type: 'Runs on::Runs', className: 'cmdb_ci_linux_server'/,
    );
    expect(problem({ name: 'apps', relations: [HOST] })).toBe('');
  });

  it('refuses a relation target that cannot be identified by name', () => {
    expect(
      problem({
        name: 'img',
        kind: 'image',
        relations: [{ type: 'Contains::Contained by', className: 'cmdb_ci_appl', name: 'x' }],
      }),
    ).toMatch(/cmdb_ci_appl cannot be identified by name alone/);
  });

  it("registers nothing by default: the host an application runs on is the operator's to name", () => {
    expect(CmdbSchema.parse({}).policies).toEqual([]);
  });
});

describe('cmdb policies and answers', () => {
  it('matches image policies only for pipelines the policy names', () => {
    const { policies } = CmdbSchema.parse({
      policies: [
        { name: 'images', kind: 'image', match: { pipeline: 'build-image*' } },
        { name: 'apps', match: { environment: 'prod*' }, relations: [HOST] },
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
