/**
 * The port the change worker uses to read a commit message the webhook payload did not carry
 * (GitHub's `deployment_protection_rule` has no `head_commit`, and `workflow_run.head_commit` is
 * null inside `deployment_status`), so a `Change: CHG…` trailer still names the CR.
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

export interface CommitMessages {
  /**
   * The commit's message, or undefined when the provider has no such lookup, is not configured,
   * does not know the commit, or may not show it (missing permission; logged).
   * @throws UpstreamError when the provider answers an error a person must fix, or a retry can help.
   */
  messageOf(ref: CommitRef): Promise<string | undefined>;
}

/** No lookup anywhere: every message is unknown. */
export const NO_COMMIT_MESSAGES: CommitMessages = { messageOf: async () => undefined };
