import { header, type Json } from './json.js';
import { HEADERS, RESPONSES } from './responses.js';
import { SCHEMAS } from './schemas.js';

/**
 * `components` of the OpenAPI document: schemas and responses (their own files), plus the shared
 * header parameters and the Basic auth scheme of the Azure DevOps route.
 *
 * @module
 */

const PARAMETERS: Json = {
  webhookId: header(
    'webhook-id',
    'Standard Webhooks message id; the same on every retry: the dedupe key.',
    { type: 'string', minLength: 1 },
  ),
  webhookTimestamp: header(
    'webhook-timestamp',
    'Unix seconds of this attempt; more than `ingest.toleranceSeconds` (300) away from now → 401.',
    { type: 'string', pattern: '^\\d{1,12}$' },
  ),
  webhookSignature: header(
    'webhook-signature',
    'Space-separated `v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{raw body}")>` entries, key = base64-decoded secret after `whsec_`. Any matching entry is accepted (rotation).',
    { type: 'string', pattern: '^v1,' },
  ),
  traceparent: header(
    'traceparent',
    'W3C Trace Context; copied into the events (`ce_traceparent`).',
    { type: 'string' },
    false,
  ),
};

const SECURITY_SCHEMES: Json = {
  azureBasic: {
    type: 'http',
    scheme: 'basic',
    description:
      'The service hook’s (or the check’s generic service connection’s) username and password, one of `sources.azureDevops.basic`.',
  },
};

/** Everything the paths refer to with `$ref`. */
export const COMPONENTS: Json = {
  schemas: SCHEMAS,
  parameters: PARAMETERS,
  headers: HEADERS,
  responses: RESPONSES,
  securitySchemes: SECURITY_SCHEMES,
};
