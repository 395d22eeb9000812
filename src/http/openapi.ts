import { COMPONENTS } from './openapi/components.js';
import { HOOK_PATHS } from './openapi/hooks.js';
import type { Json } from './openapi/json.js';
import { OPERATION_PATHS } from './openapi/operations.js';

/**
 * The OpenAPI 3.1 document of the receiver's HTTP routes, generated from code: the bodies we own
 * (the changegate webhook format, the ServiceNow outbound message) come from their zod schemas,
 * provider payloads are open objects, and every status a route answers is listed with the error
 * body `http/errors.ts` writes. Served at `/openapi.json`, published as `schemas/openapi.json`.
 * The parts live in `openapi/`: `hooks.ts` and `operations.ts` (paths), `components.ts`,
 * `schemas.ts`, `responses.ts`.
 *
 * The order of checks on every `/hooks` route (ingest.ts) decides which status wins: body over
 * the limit → 413; source not configured → 404; signature → 401; delivery id seen → 200;
 * JSON/shape → 400; Kafka did not acknowledge in time → 503; else 202.
 *
 * @module
 */

/**
 * The OpenAPI 3.1 document of the receiver.
 * @param serverUrl where the receiver is reached; defaults to a relative URL (this host).
 * @example app.get('/openapi.json', (c) => c.json(openApiDocument()))
 */
export function openApiDocument(serverUrl = '/'): Json {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'changegate receiver',
      version: '1.0.0',
      description:
        'Signed webhooks in, CloudEvents on Kafka out. Every `/hooks` route verifies over the raw bytes, answers 202 only after Kafka acknowledged the events, 200 for a redelivery or a ping, and 503 with Retry-After when Kafka is unavailable.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: 'webhooks', description: 'Signed deliveries from CI systems and ServiceNow.' },
      { name: 'operations', description: 'Probes, metrics and API documents.' },
    ],
    paths: { ...HOOK_PATHS, ...OPERATION_PATHS },
    components: COMPONENTS,
  };
}
