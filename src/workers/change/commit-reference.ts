import type { CommitLookup } from '../../ci/commits.js';
import { GatePolicySchema } from '../../config/changes.js';
import type { Config } from '../../config/schema.js';
import { findChangeNumber } from '../../events/change-reference.js';
import type { DeploymentData } from '../../events/cicd.js';
import { separationApplies } from '../../gate/separation.js';
import { resolvePolicy } from '../../policy/resolve.js';

/**
 * Complete a deployment from its commit where the webhook payload did not describe it (GitHub:
 * `deployment_protection_rule` has no `head_commit`, and `workflow_run.head_commit` is null inside
 * `deployment_status`). The commit is read from the CI system when
 * - the environment's policy links a CR the pipeline names (`link.byNumber`), the event names
 *   none yet and carries no message: the message's `Change:` trailer may name it; or
 * - the deployment waits at a gate (it has a callback) whose policy applies separation of
 *   duties, and the event names no commit author or committer: the approver is compared with
 *   them.
 * One read per sha (the port caches), and only with a sha.
 *
 * @returns `d` itself when nothing was read, else a copy with what the commit adds: the message
 *   and, when it names a CR, `changeNumber` (only where a trailer was wanted); the author and
 *   committer the event lacked.
 * @throws UpstreamError from the port (the handler is retried like any ServiceNow failure).
 */
export async function withCommitReference(
  d: DeploymentData,
  config: Pick<Config, 'changes' | 'gates'>,
  commits: CommitLookup,
): Promise<DeploymentData> {
  if (!d.commit.sha) return d;
  const policy = resolvePolicy(config.changes.policies, d);
  if (!policy || policy.mode === 'none') return d;
  const wantsTrailer = policy.link.byNumber && !d.changeNumber && !d.commit.message;
  const sod = gatePolicy(config.gates, policy.gate).separationOfDuties;
  const wantsPeople =
    d.callback !== undefined &&
    separationApplies(sod, d.environment) &&
    (!d.commit.author || !d.commit.committer);
  if (!wantsTrailer && !wantsPeople) return d;

  const found = await commits.commitOf({
    provider: d.provider,
    project: d.project,
    sha: d.commit.sha,
    installationId: d.callback?.kind === 'github' ? d.callback.params.installationId : undefined,
  });
  if (!found) return d;
  const commit = {
    ...d.commit,
    ...(wantsTrailer && found.message ? { message: found.message } : {}),
    ...(!d.commit.author && found.author ? { author: found.author } : {}),
    ...(!d.commit.committer && found.committer ? { committer: found.committer } : {}),
  };
  const changeNumber = wantsTrailer ? findChangeNumber(found.message) : undefined;
  return { ...d, commit, ...(changeNumber ? { changeNumber } : {}) };
}

/** The gate policy by name, as the gate worker resolves it (`src/workers/gate/index.ts`). */
function gatePolicy(gates: Config['gates'], name: string) {
  return gates.policies[name] ?? gates.policies.default ?? GatePolicySchema.parse({});
}
