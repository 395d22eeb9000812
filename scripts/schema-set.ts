import { eventJsonSchemas } from '../src/events/json-schema.js';

/** Every generated file under schemas/, by relative path. */
export function allJsonSchemas(): Record<string, unknown> {
  return { ...eventJsonSchemas() };
}
