import { CloudEventSchema, type CloudEvent } from '../events/envelope.js';
import type { BusRecord, ConsumedRecord } from './port.js';

/**
 * CloudEvents Kafka protocol binding, binary content mode: the value is the JSON data, every
 * other attribute is a `ce_<name>` header, `content-type` carries datacontenttype
 * (https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/kafka-protocol-binding.md).
 *
 * @module
 */

const CE_PREFIX = 'ce_';

/**
 * @param dataJson the event's data already serialized (the receiver splices the provider's own
 *   bytes into it instead of serializing a 20 KB payload a second time); JSON.stringify otherwise.
 */
export function toRecord(
  topic: string,
  event: CloudEvent,
  key?: string,
  dataJson?: string,
): BusRecord {
  const headers: Record<string, string> = { 'content-type': event.datacontenttype };
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'datacontenttype' || value === undefined) continue;
    headers[CE_PREFIX + name] = String(value);
  }
  return {
    topic,
    key: key ?? event.partitionkey ?? null,
    value: event.data === undefined ? null : Buffer.from(dataJson ?? JSON.stringify(event.data)),
    headers,
  };
}

/**
 * Read a CloudEvent back from a record in either content mode.
 * @throws Error when the record is not a CloudEvent.
 */
export function fromRecord(record: Pick<ConsumedRecord, 'headers' | 'value'>): CloudEvent {
  const contentType = record.headers['content-type'] ?? '';
  if (contentType.toLowerCase().startsWith('application/cloudevents')) {
    return CloudEventSchema.parse(JSON.parse(record.value?.toString('utf8') ?? 'null'));
  }
  const attributes: Record<string, unknown> = { datacontenttype: contentType };
  for (const [name, value] of Object.entries(record.headers)) {
    if (name.startsWith(CE_PREFIX)) attributes[name.slice(CE_PREFIX.length)] = value;
  }
  attributes.data = record.value === null ? undefined : JSON.parse(record.value.toString('utf8'));
  return CloudEventSchema.parse(attributes) as CloudEvent;
}
