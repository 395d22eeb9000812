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
};

/** The responses the `/hooks` routes refer to by name. */
export const RESPONSES: Json = {
  Duplicate: {
    description: 'Already accepted (a redelivery), or a ping. Nothing new is published.',
    content: {
      'application/json': { schema: { oneOf: [ref('Duplicate'), ref('Pong')] } },
    },
  },
  Accepted: {
    description: 'Verified, normalized and acknowledged by Kafka.',
    content: { 'application/json': { schema: ref('Accepted') } },
  },
  BadRequest: errorBody(
    ['invalid_payload'],
    'Not UTF-8, not JSON, or not the shape the route reads (reason names the field or header).',
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
      'Kafka did not acknowledge in time; nothing was accepted, redeliver after Retry-After.',
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
