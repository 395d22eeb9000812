import type { ChangePolicy } from '../config/changes.js';
import type { DeploymentData } from '../events/cicd.js';
import { globMatch } from './glob.js';

/** The first policy whose match fits the deployment, or undefined (not controlled). */
export function resolvePolicy(
  policies: readonly ChangePolicy[],
  d: Pick<DeploymentData, 'provider' | 'project' | 'environment'>,
): ChangePolicy | undefined {
  return policies.find(
    (p) =>
      globMatch(p.match.provider, d.provider) &&
      globMatch(p.match.project, d.project) &&
      globMatch(p.match.environment, d.environment),
  );
}

/** Which kind of CR a deployment gets under its policy. */
export function changeKind(
  policy: ChangePolicy,
  d: Pick<DeploymentData, 'labels' | 'emergency' | 'commit'>,
): ChangePolicy['mode'] {
  if (policy.mode === 'none' || policy.mode === 'link') return policy.mode;
  const when = policy.emergencyWhen;
  const byFlag = when.flag && d.emergency;
  // Labels are matched case-insensitively on both sides (`Hotfix`, `SEV1` in config or pipeline).
  const wanted = new Set(when.labels.map((l) => l.toLowerCase()));
  const byLabel = d.labels.some((l) => wanted.has(l.toLowerCase()));
  const branch = d.commit.ref?.replace(/^refs\/heads\//, '');
  const byBranch = branch !== undefined && when.branches.some((b) => globMatch(b, branch));
  return byFlag || byLabel || byBranch ? 'emergency' : policy.mode;
}

/** Template variables of a deployment (`{{project}}`, `{{commit.short}}`, `{{run.url}}`, …). */
export function templateVars(d: DeploymentData): Record<string, unknown> {
  return {
    ...d,
    ref: d.commit.ref ?? '',
    commit: { ...d.commit, short: d.commit.sha?.slice(0, 7) ?? '' },
    run: d.run ?? {},
    actor: d.actor ?? '',
  };
}
