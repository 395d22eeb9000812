import { z } from 'zod';
import { CloudEventSchema } from './envelope.js';
import { EVENT_TYPES } from './types.js';

/**
 * The published JSON Schemas (draft 2020-12), generated from the zod schemas: one per event
 * type's `data`, plus the envelope. `scripts/generate-schemas.ts` writes them to `schemas/`,
 * and a test fails when the files are stale.
 */
export function eventJsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {
    'cloudevent.schema.json': withId(
      z.toJSONSchema(CloudEventSchema, { io: 'output', unrepresentable: 'any' }),
      'cloudevent',
    ),
  };
  for (const [type, { schema, topic }] of Object.entries(EVENT_TYPES)) {
    const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
    out[`events/${type}.schema.json`] = {
      ...withId(json, `events/${type}`),
      title: type,
      description: `data of a ${type} CloudEvent, published on the ${topic} topic`,
    };
  }
  return out;
}

function withId(schema: object, name: string): Record<string, unknown> {
  return { $id: `https://changegate.dev/schemas/${name}.schema.json`, ...schema };
}
