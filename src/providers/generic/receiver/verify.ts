import type { SourcesConfig } from '../../../config/schema.js';
import { verifyStandardWebhook } from '../../../security/standard-webhooks.js';
import type { RawRequest, Verified, VerifyOptions } from '../../../receivers/types.js';

/**
 * Generic sources: any system that can sign a Standard Webhook, one secret set per `:source`
 * (`sources.generic.<source>`), or the `*` entry for every other name.
 *
 * @module
 */

/** The secrets of one generic source. */
export interface GenericSecrets {
  secrets: string[];
}

// Letters, digits, `_` and `-`, 1–64 characters: the name lands in Kafka keys, correlation ids
// and log lines, so nothing that could look like a path, a dot-separated type or a prototype key.
const SOURCE_SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** True when `source` is acceptable as a `/hooks/generic/:source` name. */
export function isSourceSlug(source: string): boolean {
  return SOURCE_SLUG.test(source);
}

/**
 * The secrets for `params.source`: its own entry, else `*`, else undefined (404). A name that is
 * not a slug is treated as not configured, even when `*` exists.
 */
export function genericSecrets(
  sources: SourcesConfig,
  params: Record<string, string>,
): GenericSecrets | undefined {
  const source = params.source;
  if (!source || !isSourceSlug(source)) return undefined;
  // Object.hasOwn: `constructor` or `toString` are valid slugs but must not hit the prototype.
  if (Object.hasOwn(sources.generic, source)) return sources.generic[source];
  if (Object.hasOwn(sources.generic, '*')) return sources.generic['*'];
  return undefined;
}

/**
 * Verify a generic delivery: Standard Webhooks signature against any of the source's secrets.
 * @returns the `webhook-id`, the dedupe key.
 * @throws VerificationError when the signature, a header or the timestamp is wrong.
 */
export function verify(
  request: RawRequest,
  secrets: GenericSecrets,
  options: VerifyOptions,
): Verified {
  return {
    deliveryId: verifyStandardWebhook(request.headers, request.body, secrets.secrets, options),
  };
}
