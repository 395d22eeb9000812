import type { Person } from '../events/cicd.js';

/**
 * The port the change worker uses to read a commit the webhook payload did not describe fully:
 * its message (GitHub's `deployment_protection_rule` has no `head_commit`, and
 * `workflow_run.head_commit` is null inside `deployment_status`), so a `Change: CHG…` trailer
 * still names the CR; and its author and committer, so separation of duties can compare them
 * with the approver.
 *
 * @module
 */

export interface CommitRef {
  /** `callback.kind` / event provider, e.g. `github`. */
  provider: string;
  /** `owner/repo` for GitHub. */
  project: string;
  sha: string;
  /** The App installation that can read the repository, when the event names it. */
  installationId?: string | undefined;
}

/** What the CI system says of one commit; any part may be missing. */
export interface CommitDetails {
  message?: string;
  author?: Person;
  committer?: Person;
}

export interface CommitLookup {
  /**
   * The commit, or undefined when the provider has no such lookup, is not configured, does not
   * know the commit, or may not show it (missing permission; logged). One read per commit: a
   * commit never changes, so implementations cache.
   * @throws UpstreamError when the provider answers an error a person must fix, or a retry can help.
   */
  commitOf(ref: CommitRef): Promise<CommitDetails | undefined>;
}

/** No lookup anywhere: every commit is unknown. */
export const NO_COMMIT_LOOKUP: CommitLookup = { commitOf: async () => undefined };
