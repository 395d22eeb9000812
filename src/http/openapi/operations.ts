import type { Json } from './json.js';

/**
 * The operational routes (`http/ops.ts`, `http/app.ts`): probes, metrics and the two API
 * documents.
 *
 * @module
 */

/** A `GET` that answers 200 with one body. */
function get(summary: string, ok: Json): Json {
  return { get: { summary, tags: ['operations'], responses: { '200': ok } } };
}

/** A JSON document route (this one, or the AsyncAPI one). */
const document = (summary: string, description: string): Json =>
  get(summary, {
    description,
    content: { 'application/json': { schema: { type: 'object' } } },
  });

/** The `/readyz` answer for one status. */
const readiness = (status: 'ready' | 'unavailable', description: string): Json => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['status', 'bus'],
        properties: {
          status: { const: status },
          bus: { type: 'string', enum: ['kafka', 'memory'] },
        },
      },
    },
  },
});

/** `paths` entries of the operational routes. */
export const OPERATION_PATHS: Json = {
  '/healthz': get('Liveness: the process serves HTTP', {
    description: 'Up.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['status'],
          properties: { status: { const: 'ok' } },
        },
      },
    },
  }),
  '/readyz': {
    get: {
      summary: 'Readiness: deliveries can be acknowledged',
      tags: ['operations'],
      responses: {
        '200': readiness(
          'ready',
          'Kafka (or the embedded bus) accepts writes — or, on a receiver, its spool has room, so deliveries are still acknowledged while Kafka is away. Workers answer for the bus only.',
        ),
        '503': readiness(
          'unavailable',
          'The bus cannot take writes (and, on a receiver, the spool is full or disabled); take the pod out of rotation.',
        ),
      },
    },
  },
  '/metrics': get('Prometheus metrics', {
    description: 'Prometheus text exposition format 0.0.4.',
    content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
  }),
  '/openapi.json': document('This document', 'OpenAPI 3.1'),
  '/asyncapi.json': document(
    'AsyncAPI 3.0 document of the Kafka topics (configured names)',
    'AsyncAPI 3.0',
  ),
};
