import { topicSpecs } from '../src/bus/topics.js';
import { KafkaSchema } from '../src/config/schema.js';
import { asyncApiDocument } from '../src/events/asyncapi.js';
import { eventJsonSchemas } from '../src/events/json-schema.js';
import { openApiDocument } from '../src/http/openapi.js';
import { configJsonSchema } from './config-reference.js';

/** Every generated file under schemas/, by relative path. */
export function allJsonSchemas(): Record<string, unknown> {
  // The published AsyncAPI document names the default topics; /asyncapi.json the configured ones.
  const kafka = KafkaSchema.parse({});
  return {
    ...eventJsonSchemas(),
    'config.schema.json': configJsonSchema(),
    'openapi.json': openApiDocument(),
    'asyncapi.json': asyncApiDocument({ topics: kafka.topics, specs: topicSpecs(kafka) }),
  };
}
