import type { Receiver } from '../../../receivers/types.js';
import { normalizeGitlab } from './normalize.js';
import { verifyGitlab, type GitlabSecrets } from './verify.js';

/**
 * `POST /hooks/gitlab`: project or group webhooks authenticated by `X-Gitlab-Token` or by a
 * Standard-Webhooks signing token. Secrets come from `sources.gitlab`.
 *
 * @module
 */

export { verifyGitlab, type GitlabSecrets } from './verify.js';
export { gitlabDeliveryId } from './delivery-id.js';
export { gitlabInstanceUrl, gitlabPlayUrl } from './callback-url.js';
export {
  normalizeGitlab,
  pipelineChangeNumber,
  waitingDeployJobs,
  waitingJobEvent,
  type WaitingJob,
} from './normalize.js';

/** The GitLab receiver: `secrets` → `verify` → `normalize`, no HTTP or Kafka inside. */
export const gitlabReceiver: Receiver<GitlabSecrets> = {
  name: 'gitlab',
  secrets: (sources) =>
    sources.gitlab
      ? { tokens: sources.gitlab.tokens, signingTokens: sources.gitlab.signingTokens }
      : undefined,
  verify: (request, secrets, options) =>
    verifyGitlab(request.headers, request.body, secrets, options),
  normalize: normalizeGitlab,
};
