import type { EventType, TopicName } from '../types.js';
import { keyBinding, type Json } from './topics.js';

/**
 * The AsyncAPI message of one CloudEvent type: the binary-mode `ce_*` headers, the record key,
 * and the type's generated JSON Schema as payload.
 *
 * @module
 */

function cloudEventHeaders(type: EventType): Json {
  const str = (description: string): Json => ({ type: 'string', description });
  return {
    type: 'object',
    description:
      'CloudEvents 1.0 Kafka protocol binding, binary content mode: the value is the JSON `data`, every other attribute a `ce_<name>` header (UTF-8).',
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type'],
    properties: {
      ce_specversion: { type: 'string', const: '1.0' },
      ce_id: str(
        'Event id; stable per delivery (the provider’s delivery id, `#<n>` appended for the n-th event of one delivery), so a redelivery carries the same id.',
      ),
      ce_source: str(
        'URI-reference of the producer, e.g. `/changegate/github`, `/changegate/generic/<source>`, `/changegate/workers/gate`.',
      ),
      ce_type: { type: 'string', const: type },
      ce_time: {
        type: 'string',
        format: 'date-time',
        description: 'When changegate received or produced the event.',
      },
      ce_subject: str('What the event is about: the deployment key, CR number or record.'),
      ce_partitionkey: str(
        'CloudEvents partitioning extension: the Kafka key the record was written under.',
      ),
      ce_traceparent: str('W3C Trace Context of the inbound request, when it carried one.'),
      ce_dataschema: str('Unused today; the payload schema is the one of `ce_type`.'),
      'content-type': { type: 'string', const: 'application/json' },
    },
  };
}

/** A generated JSON Schema embedded in the document: `$id`/`$schema` are the file's, not ours. */
function embedded(schema: unknown): Json {
  const { $schema: _schema, $id: _id, ...rest } = schema as Json;
  return rest;
}

/**
 * The message of `type`, published on `topic`.
 * @param schemas the generated JSON Schemas by file name (`eventJsonSchemas()`).
 */
export function eventMessage(
  type: EventType,
  topic: TopicName,
  schemas: Record<string, unknown>,
): Json {
  return {
    name: type,
    title: type,
    summary: `A ${type} CloudEvent.`,
    contentType: 'application/json',
    headers: cloudEventHeaders(type),
    payload: embedded(schemas[`events/${type}.schema.json`]),
    bindings: keyBinding(topic),
  };
}
