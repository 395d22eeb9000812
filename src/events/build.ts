import type { z } from 'zod';
import { PayloadError } from '../errors.js';
import type { CloudEvent } from './envelope.js';
import type { Raw } from './common.js';
import { EVENT_TYPES, type EventData, type EventType, type TopicName } from './types.js';

/** What a normalizer returns for one event: the envelope fields are added by {@link buildEvent}. */
export type NormalizedEvent = {
  [T in EventType]: {
    type: T;
    /** CloudEvents `subject`: what the event is about (deployment, CR number, record). */
    subject: string;
    /** Kafka key: the unit whose events must stay in order. */
    key: string;
    data: z.input<(typeof EVENT_TYPES)[T]['schema']>;
  };
}[EventType];

export type TypedCloudEvent<T extends EventType = EventType> = CloudEvent<EventData<T>> & {
  type: T;
};

export interface EnvelopeContext {
  /** Stable per delivery, so a redelivery produces the same CloudEvent id. */
  id: string;
  source: string;
  time: Date;
  traceparent?: string | undefined;
}

/**
 * Validate a normalized event's data against its zod schema and wrap it in a CloudEvent.
 * @throws PayloadError when the data does not match the schema of its type.
 */
export function buildEvent(normalized: NormalizedEvent, ctx: EnvelopeContext): TypedCloudEvent {
  const { schema } = EVENT_TYPES[normalized.type];
  const parsed = schema.safeParse(normalized.data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.join('.') || '(root)';
    throw new PayloadError(
      'schema_mismatch',
      `${normalized.type}: ${where}: ${first?.message ?? 'invalid'}`,
      { cause: parsed.error },
    );
  }
  return {
    specversion: '1.0',
    id: ctx.id,
    source: ctx.source,
    type: normalized.type,
    subject: normalized.subject,
    time: ctx.time.toISOString(),
    datacontenttype: 'application/json',
    partitionkey: normalized.key,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    data: parsed.data,
  } as TypedCloudEvent;
}

export function topicOf(type: EventType): TopicName {
  return EVENT_TYPES[type].topic;
}

/**
 * Keep the provider's payload when it fits the cap; beyond it keep only a marker, because a
 * half-cut JSON document is worse than none to a subscriber.
 */
export function captureRaw(payload: unknown, bytes: number, maxBytes: number): Raw {
  return bytes <= maxBytes
    ? { truncated: false, bytes, payload }
    : { truncated: true, bytes, payload: null };
}
