import type { z } from 'zod';
import type { SourcesConfig } from '../../../config/schema.js';
import type { JenkinsSourceSchema } from '../config.js';
import { verifyStandardWebhook } from '../../../security/standard-webhooks.js';
import type { RawRequest, Verified, VerifyOptions } from '../../../receivers/types.js';

/**
 * Jenkins has no signed webhook of its own; our shared-library step signs its POST as a
 * Standard Webhook with `sources.jenkins.secrets`.
 *
 * @module
 */

/** `sources.jenkins`: one or several (rotation) `whsec_` secrets. */
export type JenkinsSecrets = NonNullable<z.output<typeof JenkinsSourceSchema>>;

/** The configured Jenkins secrets, or undefined (the route answers 404). */
export function jenkinsSecrets(sources: SourcesConfig): JenkinsSecrets | undefined {
  return sources.jenkins;
}

/**
 * @returns the `webhook-id`, the dedupe key.
 * @throws VerificationError when the signature, a header or the timestamp is wrong.
 */
export function verify(
  request: RawRequest,
  secrets: JenkinsSecrets,
  options: VerifyOptions,
): Verified {
  return {
    deliveryId: verifyStandardWebhook(request.headers, request.body, secrets.secrets, options),
  };
}
