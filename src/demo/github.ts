import { randomUUID } from 'node:crypto';
import { signGithub } from '../providers/github/receiver/sign.js';

/**
 * GitHub, played by the demo: the two deliveries a GitHub App with a custom deployment protection
 * rule receives for one deployment, shaped like the real payloads (only the fields a reader of
 * the demo would look for; changegate keeps the whole payload in `data.raw` anyway).
 *
 * @see https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_protection_rule
 * @see https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status
 * @module
 */

/** One deployment of a workflow run to an environment. */
export interface DemoDeployment {
  owner: string;
  repo: string;
  runId: number;
  deploymentId: number;
  environment: string;
  sha: string;
  title: string;
  /** The emulated GitHub's callback URL for this run (from `ci.github.pending`). */
  callbackUrl: string;
}

/** A delivery as GitHub sends it: headers plus the exact bytes that were signed. */
export interface GithubDelivery {
  event: string;
  deliveryId: string;
  headers: Record<string, string>;
  body: string;
}

export const INSTALLATION_ID = 41_234_567;

const repository = (d: DemoDeployment) => ({
  id: 612_345_678,
  name: d.repo,
  full_name: `${d.owner}/${d.repo}`,
  private: true,
  owner: { login: d.owner, type: 'Organization' },
  html_url: `https://github.com/${d.owner}/${d.repo}`,
  default_branch: 'main',
});

const deployment = (d: DemoDeployment) => ({
  url: `https://api.github.com/repos/${d.owner}/${d.repo}/deployments/${d.deploymentId}`,
  id: d.deploymentId,
  task: 'deploy',
  original_environment: d.environment,
  environment: d.environment,
  description: null,
  sha: d.sha,
  ref: 'main',
  payload: {},
  creator: { login: 'octocat', type: 'User' },
  production_environment: d.environment === 'production',
});

/** `deployment_protection_rule` / `requested`: the run waits at the environment for our answer. */
export function protectionRuleRequested(d: DemoDeployment): Record<string, unknown> {
  return {
    action: 'requested',
    environment: d.environment,
    event: 'push',
    deployment_callback_url: d.callbackUrl,
    deployment: deployment(d),
    pull_requests: [{ number: 412, title: d.title, body: null, labels: [] }],
    repository: repository(d),
    organization: { login: d.owner },
    installation: { id: INSTALLATION_ID },
    sender: { login: 'octocat', type: 'User' },
  };
}

/** `deployment_status` / `created` with `state` in_progress, success or failure. */
export function deploymentStatus(
  d: DemoDeployment,
  state: 'in_progress' | 'success' | 'failure',
): Record<string, unknown> {
  const runUrl = `https://github.com/${d.owner}/${d.repo}/actions/runs/${d.runId}`;
  return {
    action: 'created',
    deployment_status: {
      id: d.deploymentId * 10 + (state === 'in_progress' ? 1 : 2),
      state,
      environment: d.environment,
      description: state === 'failure' ? 'Smoke tests failed after rollout' : null,
      target_url: runUrl,
      creator: { login: 'github-actions[bot]', type: 'Bot' },
    },
    deployment: deployment(d),
    workflow_run: {
      id: d.runId,
      name: 'Deploy',
      html_url: runUrl,
      run_attempt: 1,
      status: state === 'in_progress' ? 'in_progress' : 'completed',
      conclusion: state === 'in_progress' ? null : state,
      head_sha: d.sha,
      head_branch: 'main',
      display_title: d.title,
      path: '.github/workflows/deploy.yml',
    },
    repository: repository(d),
    organization: { login: d.owner },
    installation: { id: INSTALLATION_ID },
    sender: { login: 'github-actions[bot]', type: 'Bot' },
  };
}

/** Sign `payload` the way GitHub does: compact JSON, HMAC-SHA256 over those exact bytes. */
export function githubDelivery(
  event: string,
  payload: unknown,
  secret: string,
  deliveryId: string = randomUUID(),
): GithubDelivery {
  const body = JSON.stringify(payload);
  return {
    event,
    deliveryId,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/changegate-demo',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '498123456',
      'x-hub-signature-256': signGithub(secret, body),
    },
  };
}

/** POST a delivery to changegate; returns the HTTP status and the body text. */
export async function send(
  receiverUrl: string,
  delivery: Pick<GithubDelivery, 'headers' | 'body'>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${receiverUrl}/hooks/github`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: res.status, text: await res.text() };
}
