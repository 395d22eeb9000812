import type { ChangePolicy } from '../../config/changes.js';
import type { DeploymentData } from '../../events/cicd.js';
import { templateVars } from '../../policy/resolve.js';
import { render } from '../../policy/template.js';
import type { SnRecord } from '../../servicenow/index.js';

export type LinkVerdict =
  | { ok: true; bind: boolean; why: string }
  | { ok: false; reason: 'bound-elsewhere' | 'not-bound'; detail: string };

/**
 * Whether a CR a pipeline named (or a title matched) may gate this deployment. A CR approves only
 * what it was raised for: one bound to this deployment (its correlation_id), or one raised by hand
 * (no correlation_id yet) that matches what the policy says this project × environment's CRs
 * carry (CI, assignment group, fields). A CR bound to another deployment is refused unless the
 * policy allows reuse, and even then only one of the same project. Pure: the worker does the I/O.
 */
export function linkVerdict(
  policy: ChangePolicy,
  d: DeploymentData,
  cr: SnRecord,
  correlationId: string,
): LinkVerdict {
  const number = cr.number ?? cr.sys_id ?? '?';
  const bound = cr.correlation_id ?? '';
  const target = `${d.project} → ${d.environment}`;
  if (bound === correlationId || bound === d.correlationId)
    return { ok: true, bind: false, why: `${number} is bound to this deployment` };
  if (bound) {
    const sameProject = bound.includes(`/${d.project}/`);
    if (policy.link.allowReuse && sameProject)
      return {
        ok: true,
        bind: false,
        why: `${number} reused (policy ${policy.name} allows reuse)`,
      };
    return {
      ok: false,
      reason: 'bound-elsewhere',
      detail: `${number} belongs to another deployment (${bound})${policy.link.allowReuse ? ' of another project' : `; policy ${policy.name} does not allow reuse`}, so it cannot approve ${target}`,
    };
  }
  const vars = templateVars(d);
  const checks: [string, string, string][] = [];
  if (policy.link.cmdbCi) checks.push(['cmdb_ci', policy.link.cmdbCi, 'configuration item']);
  if (policy.link.assignmentGroup)
    checks.push(['assignment_group', policy.link.assignmentGroup, 'assignment group']);
  for (const [field, template] of Object.entries(policy.link.fields))
    checks.push([field, render(template, vars), field]);
  if (checks.length === 0) {
    return {
      ok: false,
      reason: 'not-bound',
      detail: `${number} was not raised for ${target} (no correlation id), and policy ${policy.name} names no CI, assignment group or fields such a CR must carry (link.cmdbCi, link.assignmentGroup, link.fields)`,
    };
  }
  const failed = checks.filter(([field, want]) => (cr[field] ?? '') !== want);
  if (failed.length > 0) {
    return {
      ok: false,
      reason: 'not-bound',
      detail: `${number} does not belong to ${target}: its ${failed.map(([f, , label]) => `${label} (${f}) is "${cr[f] ?? ''}"`).join(', ')}, policy ${policy.name} expects ${failed.map(([, want]) => `"${want}"`).join(', ')}`,
    };
  }
  return {
    ok: true,
    bind: true,
    why: `${number} matches policy ${policy.name} (${checks.map(([, , l]) => l).join(', ')})`,
  };
}
