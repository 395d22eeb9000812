import type { Receiver } from '../../../receivers/types.js';
import { normalizeGithub } from './normalize.js';
import { verifyGithub } from './verify.js';

/**
 * `POST /hooks/github`: HMAC-SHA256 signed deliveries from a GitHub App or repository webhook.
 * Secrets come from `sources.github.secrets` (several during a rotation).
 *
 * @module
 */

export { signGithub } from './sign.js';
export { verifyGithub } from './verify.js';
export { normalizeGithub } from './normalize.js';
export { runDeploymentId, runIdFromCallbackUrl } from './deployment-id.js';

/** The GitHub receiver: `secrets` → `verify` → `normalize`, no HTTP or Kafka inside. */
export const githubReceiver: Receiver<string[]> = {
  name: 'github',
  secrets: (sources) => sources.github?.secrets,
  verify: (request, secrets) => verifyGithub(request.headers, request.body, secrets),
  normalize: normalizeGithub,
};
