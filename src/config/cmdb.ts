import { z } from 'zod';
import { CMDB_CLASSES, unknownClassProblem } from './cmdb-classes.js';

const Glob = z.string().min(1).default('*');

/**
 * One relation from the registered CI to a CI named in config, e.g. the cluster it runs on.
 * `name` is a template; `byEnvironment` names the target per environment and wins over `name`.
 * An environment with neither gets no relation of this kind.
 */
export const CmdbRelationSchema = z
  .object({
    /** cmdb_rel_type name, `parent descriptor::child descriptor`. */
    type: z.string().regex(/^[^:]+::[^:]+$/, 'must look like "Runs on::Runs"'),
    className: z.string().regex(/^cmdb_ci/, 'must be a CMDB class (cmdb_ci…)'),
    name: z.string().min(1).optional(),
    byEnvironment: z.record(z.string(), z.string().min(1)).default({}),
    /** Which end the registered CI is: `parent` (it runs on / depends on the target) or `child`. */
    ciIs: z.enum(['parent', 'child']).default('parent'),
  })
  .refine((r) => r.name || Object.keys(r.byEnvironment).length > 0, {
    message: 'a relation needs name or byEnvironment',
  });
export type CmdbRelationConfig = z.infer<typeof CmdbRelationSchema>;

/**
 * How a success registers a CI. `kind: application` acts on `deployment.succeeded`; `kind: image`
 * acts on `pipeline.succeeded` of the pipelines `match.pipeline` names (an image build is a
 * pipeline whose name matches, e.g. `build-image*`). Templates: `{{project}}`, `{{environment}}`,
 * `{{pipeline}}`, `{{version}}` (a `version:` label, a tag ref, else the short sha), `{{commit.sha}}`.
 */
const CmdbPolicyObject = z.object({
  name: z.string().min(1),
  match: z
    .object({ project: Glob, environment: Glob, provider: Glob, pipeline: Glob })
    .prefault({}),
  kind: z.enum(['application', 'image']).default('application'),
  connection: z.string().optional(),
  /** `sysparm_data_source` of identifyreconcile (a discovery_source choice on the instance). */
  dataSource: z.string().min(1).default('ServiceNow'),
  ci: z
    .object({
      /** Default `cmdb_ci_appl` for applications, `cmdb_ci_docker_image` for images. */
      className: z
        .string()
        .regex(/^cmdb_ci/, 'must be a CMDB class (cmdb_ci…)')
        .optional(),
      /**
       * For a class changegate does not know: the attributes its identification rule uses
       * (each must get a value from `values`, `name` or `version`).
       */
      identifiedBy: z.array(z.string().min(1)).min(1).optional(),
      name: z.string().min(1).default('{{project}}'),
      version: z.string().default('{{version}}'),
      /** Other CI attributes, templated (short_description, u_repository, …). */
      values: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  relations: z.array(CmdbRelationSchema).default([]),
  /** Add a work note to the CR that installed it (application only). */
  noteOnChange: z.boolean().default(true),
});

/** The class a policy registers: configured, else by kind. */
export const cmdbClassOf = (p: Pick<z.infer<typeof CmdbPolicyObject>, 'ci' | 'kind'>) =>
  p.ci.className ?? (p.kind === 'image' ? 'cmdb_ci_docker_image' : 'cmdb_ci_appl');

/**
 * A policy whose payload the base identification rules would refuse (IRE answers
 * MISSING_MATCHING_ATTRIBUTES or MISSING_DEPENDENCY) is refused here, at start-up, with the fix.
 */
export const CmdbPolicySchema = CmdbPolicyObject.superRefine((p, ctx) => {
  const className = cmdbClassOf(p);
  const rule = CMDB_CLASSES[className];
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message: `policy ${p.name}: ${message}` });
  if (!rule && !p.ci.identifiedBy) {
    issue(['ci', 'className'], unknownClassProblem(className)!);
    return;
  }
  const given = new Set([
    'name',
    ...Object.keys(p.ci.values),
    ...Object.keys(rule?.defaults ?? {}),
  ]);
  if (p.ci.version) given.add('version');
  const sets = p.ci.identifiedBy ? [p.ci.identifiedBy] : (rule?.identifiers ?? []);
  if (!sets.some((set) => set.every((a) => given.has(a)))) {
    issue(
      ['ci', 'values'],
      `${className} is identified by ${sets.map((s) => s.join(' + ')).join(' or ')}; set ${sets[0]!
        .filter((a) => !given.has(a))
        .map((a) => `ci.values.${a}`)
        .join(', ')}`,
    );
  }
  const host = p.ci.identifiedBy ? undefined : rule?.hostedOn;
  if (
    host &&
    !p.relations.some(
      (r) => r.type === host.type && r.ciIs === 'parent' && host.classes.includes(r.className),
    )
  ) {
    issue(
      ['relations'],
      `${className} is identified together with the host it runs on (a dependent rule; IRE answers MISSING_DEPENDENCY without it): add relations: [{ type: '${host.type}', className: 'cmdb_ci_linux_server', byEnvironment: { production: '<host name>' } }] (host classes: ${host.classes.join(', ')})`,
    );
  }
  p.relations.forEach((r, i) => {
    const target = CMDB_CLASSES[r.className];
    if (!target) issue(['relations', i, 'className'], unknownClassProblem(r.className)!);
    else if (!target.identifiers.some((set) => set.length === 1 && set[0] === 'name'))
      issue(
        ['relations', i, 'className'],
        `${r.className} cannot be identified by name alone, so it cannot be a relation target`,
      );
  });
});
export type CmdbPolicy = z.infer<typeof CmdbPolicySchema>;

/**
 * `cmdb` section: empty by default. An application CI (`cmdb_ci_appl`) is identified together
 * with the host it runs on, which only the operator knows: a policy names it per environment.
 */
export const CmdbSchema = z
  .object({ policies: z.array(CmdbPolicySchema).default([]) })
  .prefault({});
export type CmdbConfig = z.infer<typeof CmdbSchema>;
