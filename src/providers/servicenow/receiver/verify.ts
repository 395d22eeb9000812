import type { z } from 'zod';
import type { SourcesConfig } from '../../../config/schema.js';
import type { ServicenowSourceSchema } from '../config.js';
import { verifyStandardWebhook } from '../../../security/standard-webhooks.js';
import type { RawRequest, Verified, VerifyOptions } from '../../../receivers/types.js';

/**
 * ServiceNow signs its outbound message in the business rule as a Standard Webhook
 * (`GlideCertificateEncryption.generateMac(base64Key, 'HmacSHA256', id + '.' + ts + '.' + body)`
 * returns base64, exactly the `v1,` signature), so verification is the shared one.
 *
 * @module
 */

/** `sources.servicenow`: one or several (rotation) `whsec_` secrets. */
export type ServiceNowSecrets = NonNullable<z.output<typeof ServicenowSourceSchema>>;

/** The configured ServiceNow secrets, or undefined (the route answers 404). */
export function servicenowSecrets(sources: SourcesConfig): ServiceNowSecrets | undefined {
  return sources.servicenow;
}

/**
 * @returns the `webhook-id` (`gs.generateGUID()` in the business rule), the dedupe key.
 * @throws VerificationError when the signature, a header or the timestamp is wrong.
 */
export function verify(
  request: RawRequest,
  secrets: ServiceNowSecrets,
  options: VerifyOptions,
): Verified {
  return {
    deliveryId: verifyStandardWebhook(request.headers, request.body, secrets.secrets, options),
  };
}
