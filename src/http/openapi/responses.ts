import { ref, type Json } from './json.js';

/**
 * `components.responses`: every status a `/hooks` route answers, with the error body
 * `http/errors.ts` writes (its `error` code narrowed per status).
 *
 * @module
 */

function errorBody(codes: string[], description: string): Json {
  return {
    description,
    content: {
      'application/json': {
        schema: {
          allOf: [ref('Error')],
          properties: { error: { enum: codes } },
        },
      },
    },
  };
}

/** The answers a client is told to retry later, with when. */
const retryAfter = (body: Json): Json => ({
  ...body,
  headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
});

/** `components.headers`. */
export const HEADERS: Json = {
  RetryAfter: {
    description: 'Seconds to wait before redelivering.',
    schema: { type: 'integer' },
  },
  Durability: {
    description:
      "Where the acknowledged delivery is. `kafka`: written to Kafka with acks=all. `spooled`: Kafka did not acknowledge within `ingest.publishTimeoutMs`, so the delivery was fsynced to this receiver's spool and is forwarded to Kafka, in order, once the broker is writable (also after a restart). Either way it is acknowledged: do not redeliver.",
    schema: { type: 'string', enum: ['kafka', 'spooled'] },
  },
};

const durability = { 'changegate-durability': { $ref: '#/components/headers/Durability' } };

/** The responses the `/hooks` routes refer to by name. */
export const RESPONSES: Json = {
  // Every 202 carries `changegate-durability` (http/hooks.ts).
  Duplicate: {
    description: 'Already accepted (a redelivery), or a ping. Nothing new is published.',
    content: {
      'application/json': { schema: { oneOf: [ref('Duplicate'), ref('Pong')] } },
    },
  },
  Accepted: {
    description:
      "Verified and acknowledged: on Kafka with acks=all, or fsynced in this receiver's spool (see the `changegate-durability` header). A verified delivery that cannot be normalized (not JSON, not the shape the route reads) is accepted too, published as `dev.changegate.webhook.received` with `data.reason`.",
    headers: durability,
    content: { 'application/json': { schema: ref('Accepted') } },
  },
  BadRequest: errorBody(
    ['invalid_payload'],
    'An id header (`webhook-id`, `X-GitHub-Delivery`, `Idempotency-Key`, `X-Gitlab-Event-UUID`, `PlanId`, …) over 200 characters (reason `invalid_header:<name>`). Verified bodies are never refused for their content.',
  ),
  Unauthorized: errorBody(
    ['verification_failed'],
    'Signature, token or Basic auth missing or wrong, or the signed timestamp is outside the replay window.',
  ),
  NotFound: errorBody(
    ['not_found'],
    'No such route, or the source has no secret configured (nothing unsigned is accepted).',
  ),
  TooLarge: errorBody(
    ['payload_too_large'],
    'Body over `ingest.maxBodyBytes` (default 1 MiB); refused before it is read.',
  ),
  Unavailable: retryAfter(
    errorBody(
      ['bus_unavailable'],
      "Kafka did not acknowledge in time and the receiver's spool is full (or disabled); nothing was accepted, redeliver after Retry-After.",
    ),
  ),
  TooManyRequests: retryAfter(
    errorBody(
      ['rate_limited'],
      'Only with `ingest.rateLimit`: this source (route + client address) sent more than its budget; refused before the body is read. Retry after Retry-After.',
    ),
  ),
  Internal: errorBody(['internal'], 'A bug; the detail is logged, not returned.'),
};
