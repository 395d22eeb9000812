import { z } from 'zod';

/**
 * Just the fields the GitHub normalizer reads, per event. Objects strip what they do not name
 * (`z.object`): GitHub adds fields all the time, unknown keys are no error, and the full payload
 * travels on untouched in `data.raw`. Not `z.looseObject`: copying every key of `repository` and
 * `workflow_run` cost ~130 µs per 20 KB delivery, the largest zod cost in the ingest profile
 * (BENCHMARKS.md §4), for fields nobody reads from the parsed copy.
 *
 * @see https://docs.github.com/en/webhooks/webhook-events-and-payloads
 * @module
 */

const id = z.union([z.number().int(), z.string().min(1)]).transform(String);
const text = z.string().nullish();
const User = z.object({ login: z.string() }).nullish();
const Label = z.object({ name: z.string() });

export const RepositoryPayload = z.object({
  repository: z.object({ full_name: z.string().min(1), html_url: z.url().nullish() }),
});

/** Events that may arrive without a repository (app, org-level); used only to name `project`. */
export const OwnerPayload = z.object({
  repository: z.object({ full_name: z.string().min(1) }).nullish(),
  organization: z.object({ login: z.string().min(1) }).nullish(),
  installation: z.object({ id }).nullish(),
  sender: z.object({ login: z.string().min(1) }).nullish(),
  action: z.string().nullish(),
});

const Deployment = z.object({
  id,
  sha: text,
  ref: text,
  environment: text,
  description: text,
  /** Free-form: a JSON object or a string, whatever the creator passed. */
  payload: z.unknown().optional(),
  creator: User,
});

/** `pull_requests[].user` (`simple-user`): `name` and `email` are nullable and mostly absent. */
const PullRequestUser = z.object({ login: z.string(), name: text, email: text }).nullish();

const PullRequest = z.object({
  title: text,
  body: text,
  labels: z.array(Label).nullish(),
  user: PullRequestUser,
});

/**
 * `workflow_run.head_commit.author` / `.committer`: the git identity (`name`, `email` nullable),
 * `username` where GitHub matched an account (optional in GitHub's schema).
 */
const GitIdentity = z.object({ name: text, email: text, username: text }).nullish();

export const DeploymentProtectionRulePayload = RepositoryPayload.extend({
  action: z.string(),
  environment: z.string().min(1),
  deployment_callback_url: z.url({ protocol: /^https?$/ }),
  deployment: Deployment.nullish(),
  pull_requests: z.array(PullRequest).nullish(),
  installation: z.object({ id }),
  sender: User,
  // No head_commit: GitHub's schema of this event has none (webhook-deployment-protection-rule-
  // requested, @octokit/openapi-webhooks). The message is read by sha on the change side.
});
export type DeploymentProtectionRulePayload = z.output<typeof DeploymentProtectionRulePayload>;

/** What both kinds of workflow run carry and the normalizer reads of either. */
export const RunCore = z.object({
  id,
  name: text,
  html_url: z.url().nullish(),
  run_attempt: z.number().int().positive().nullish(),
  head_sha: text,
  head_branch: text,
});
export type RunCore = z.output<typeof RunCore>;

/** `workflow_run` inside `deployment_status` ("Deployment Workflow Run"): its head_commit is always null. */
const DeploymentWorkflowRun = RunCore.extend({ display_title: text });

const WorkflowRun = RunCore.extend({
  conclusion: text,
  path: text,
  head_commit: z.object({ message: text, author: GitIdentity, committer: GitIdentity }).nullish(),
  actor: User,
  triggering_actor: User,
});

export const DeploymentStatusPayload = RepositoryPayload.extend({
  action: text,
  deployment_status: z.object({
    state: z.string(),
    environment: text,
    description: text,
    creator: User,
  }),
  deployment: Deployment,
  workflow_run: DeploymentWorkflowRun.nullish(),
  sender: User,
});
export type DeploymentStatusPayload = z.output<typeof DeploymentStatusPayload>;

export const WorkflowRunPayload = RepositoryPayload.extend({
  action: z.string(),
  workflow_run: WorkflowRun,
  workflow: z.object({ name: text, path: text }).nullish(),
  sender: User,
});
export type WorkflowRunPayload = z.output<typeof WorkflowRunPayload>;

export const WorkflowJobPayload = z.object({
  workflow_job: z.object({ run_id: id }),
});
export const CheckSuitePayload = z.object({ check_suite: z.object({ id }) });
