import type { CommitMessages } from '../ci/commits.js';
import type { Config } from '../config/schema.js';
import { findChangeNumber } from '../events/change-reference.js';
import type { DeploymentData } from '../events/cicd.js';
import { resolvePolicy } from '../policy/resolve.js';

/**
 * Complete a deployment's change reference from its commit when the webhook payload carried no
 * commit message (GitHub: `deployment_protection_rule` has no `head_commit`, and
 * `workflow_run.head_commit` is null inside `deployment_status`). The message is read from the CI
 * system only when the environment's policy links a CR the pipeline names (`link.byNumber`), the
 * event names none yet and carries a sha: one read per sha (the port caches).
 *
 * @returns `d` itself when nothing was read, else a copy with `commit.message` and, when the
 *   message names a CR, `changeNumber`.
 * @throws UpstreamError from the port (the handler is retried like any ServiceNow failure).
 */
export async function withCommitReference(
  d: DeploymentData,
  policies: Config['changes']['policies'],
  commits: CommitMessages,
): Promise<DeploymentData> {
  if (d.changeNumber || d.commit.message || !d.commit.sha) return d;
  const policy = resolvePolicy(policies, d);
  if (!policy || policy.mode === 'none' || !policy.link.byNumber) return d;
  const message = await commits.messageOf({
    provider: d.provider,
    project: d.project,
    sha: d.commit.sha,
    installationId: d.callback?.kind === 'github' ? d.callback.params.installationId : undefined,
  });
  if (!message) return d;
  const changeNumber = findChangeNumber(message);
  return { ...d, commit: { ...d.commit, message }, ...(changeNumber ? { changeNumber } : {}) };
}
