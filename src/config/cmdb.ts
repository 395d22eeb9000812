import { z } from 'zod';

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
export const CmdbPolicySchema = z.object({
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
      /** Default `cmdb_ci_appl` for applications, `cmdb_ci_os_image` for images. */
      className: z
        .string()
        .regex(/^cmdb_ci/, 'must be a CMDB class (cmdb_ci…)')
        .optional(),
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
export type CmdbPolicy = z.infer<typeof CmdbPolicySchema>;

/** `cmdb` section: by default production deployments register their application CI. */
export const CmdbSchema = z
  .object({
    policies: z
      .array(CmdbPolicySchema)
      .prefault([{ name: 'production-applications', match: { environment: 'prod*' } }]),
  })
  .prefault({});
export type CmdbConfig = z.infer<typeof CmdbSchema>;
