import { CMDB_CLASSES } from '../../config/cmdb-classes.js';
import { cmdbClassOf, type CmdbPolicy } from '../../config/cmdb.js';
import { render } from '../../policy/template.js';
import type { CmdbItem, CmdbRelation } from '../../servicenow/index.js';

/** What the CMDB worker knows of a successful deployment or image build. */
export interface Installed {
  provider: string;
  project: string;
  /** '' for a pipeline that names no environment. */
  environment: string;
  pipeline: string;
  commit: { sha?: string | undefined; ref?: string | undefined };
  labels: string[];
  run?: { id: string; url?: string | undefined } | undefined;
}

/**
 * The version to record: a `version:<v>` / `version=<v>` label, else a tag the run built
 * (`refs/tags/v1.4.0` → `v1.4.0`), else the short commit sha; '' when none is known.
 */
export function versionOf(i: Pick<Installed, 'labels' | 'commit'>): string {
  for (const label of i.labels) {
    const m = /^version[:=](.+)$/i.exec(label.trim());
    if (m?.[1]) return m[1].trim();
  }
  const tag = /^refs\/tags\/(.+)$/.exec(i.commit.ref ?? '');
  if (tag?.[1]) return tag[1];
  return i.commit.sha?.slice(0, 7) ?? '';
}

/** Template variables (`{{project}}`, `{{environment}}`, `{{version}}`, `{{commit.short}}`, …). */
export function installedVars(i: Installed): Record<string, unknown> {
  return {
    ...i,
    version: versionOf(i),
    ref: i.commit.ref ?? '',
    commit: { ...i.commit, short: i.commit.sha?.slice(0, 7) ?? '' },
    run: i.run ?? {},
  };
}

/** The class a policy registers: configured, else `cmdb_ci_appl` / `cmdb_ci_docker_image`. */
export const ciClassOf = (policy: CmdbPolicy): string => cmdbClassOf(policy);

/** The deployment names no host for a class identified with its host (a dependent rule). */
export class MissingHostError extends Error {
  constructor(
    readonly policy: string,
    readonly className: string,
    readonly environment: string,
  ) {
    super(
      `[changegate/workers/cmdb] policy ${policy}: ${className} is identified with the host it runs on, and no host is configured for environment "${environment}": add it to the Runs on relation's byEnvironment (or give the relation a name)`,
    );
  }
}

export interface ReconcilePlan {
  items: CmdbItem[];
  relations: CmdbRelation[];
  /** The registered CI (item 0). */
  ci: { className: string; name: string; version: string };
}

/**
 * The identifyreconcile payload of one success: item 0 is the registered CI (name, version,
 * templated values), then one item per distinct relation target (only its name, so existing
 * CIs are identified, never overwritten), and the relations between them by index.
 * @throws TypeError when the CI's name renders empty (nothing to identify it by).
 */
export function reconcilePlan(policy: CmdbPolicy, i: Installed): ReconcilePlan {
  const vars = installedVars(i);
  const className = ciClassOf(policy);
  const name = render(policy.ci.name, vars).trim();
  if (!name) {
    throw new TypeError(
      `[changegate/workers/cmdb] policy ${policy.name}: ci.name "${policy.ci.name}" renders empty`,
    );
  }
  const version = render(policy.ci.version, vars).trim();
  const rule = CMDB_CLASSES[className];
  const values: Record<string, string> = { name };
  for (const [field, template] of Object.entries({ ...rule?.defaults, ...policy.ci.values })) {
    const value = render(template, vars);
    if (value !== '') values[field] = value;
  }
  if (version) values.version = version;

  const items: CmdbItem[] = [{ className, values }];
  const relations: CmdbRelation[] = [];
  const indexOf = new Map<string, number>();
  for (const rel of policy.relations) {
    const target = (
      rel.byEnvironment[i.environment] ?? (rel.name ? render(rel.name, vars) : '')
    ).trim();
    if (!target) continue;
    const key = `${rel.className}\u0000${target}`;
    let index = indexOf.get(key);
    if (index === undefined) {
      index = items.push({ className: rel.className, values: { name: target } }) - 1;
      indexOf.set(key, index);
    }
    const [parent, child] = rel.ciIs === 'parent' ? [0, index] : [index, 0];
    if (!relations.some((r) => r.parent === parent && r.child === child && r.type === rel.type))
      relations.push({ parent, child, type: rel.type });
  }
  const host = policy.ci.identifiedBy ? undefined : rule?.hostedOn;
  if (host && !relations.some((r) => r.parent === 0 && r.type === host.type))
    throw new MissingHostError(policy.name, className, i.environment);
  return { items, relations, ci: { className, name, version } };
}
