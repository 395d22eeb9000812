import type { BusRecord } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import { NotFoundError, PayloadError } from '../errors.js';
import { buildEvent, topicOf, type TypedCloudEvent } from '../events/build.js';
import { toRecord } from '../bus/cloudevents.js';
import type { DurablePublisher, Durability } from '../spool/durable-publisher.js';
import { checkDeliveryId, checkIdHeaders, dedupeKeys } from './delivery-keys.js';
import { bodyDeliveryId, describeFailure, unparsedEvent } from './unparsed.js';
import type { BatchingPublisher } from './batching-publisher.js';
import type { DeliveryLog } from './delivery-log.js';
import { randomBytes } from 'node:crypto';
import { parseJsonText } from './parse-json.js';
import type { RawRequest, Receiver } from '../receivers/types.js';

export interface IngestDeps {
  config: Config;
  publisher: Pick<BatchingPublisher, 'publish'>;
  deliveries: DeliveryLog;
  seal: (secret: Record<string, string>) => Promise<string>;
  /** The spool in front of the publisher; without it a bus outage is answered 503. */
  durable?: Pick<DurablePublisher, 'publish' | 'holds'> | undefined;
  now?: () => Date;
}

export type IngestOutcome =
  | {
      outcome: 'accepted';
      status: 202;
      ids: string[];
      types: string[];
      /** On Kafka (acks=all) or fsynced in this receiver's spool. */
      durability: Durability;
      /** Set when the delivery was verified but not understood (published as webhook.received). */
      unparsed?: string;
      reply?: unknown;
    }
  | { outcome: 'duplicate'; status: 200; deliveryId: string }
  | { outcome: 'ping'; status: 200 };

/**
 * One delivery, end to end: cap the id headers → find the source's secrets → verify over the
 * raw bytes → drop a redelivery or replay → parse → normalize → validate (zod) → publish and
 * wait for the broker's ack (or for the spool's fsync). Pure of HTTP: the route only maps the
 * outcome or the typed error to a response.
 *
 * Once a delivery is authenticated it is never refused: when it cannot be parsed or normalized,
 * it is published as `webhook.received` with the reason instead.
 *
 * @throws NotFoundError (404) when the source has no secret configured,
 *   VerificationError (401), PayloadError (400: an id header over 200 characters),
 *   BusUnavailableError (503: bus down and no spool, or the spool full).
 */
export async function ingest(
  receiver: Receiver<never>,
  request: RawRequest,
  { config, publisher, deliveries, seal, durable, now = () => new Date() }: IngestDeps,
  { ackWithinMs }: { ackWithinMs?: number | undefined } = {},
): Promise<IngestOutcome> {
  const route = request.params.source ? `${receiver.name}/${request.params.source}` : receiver.name;
  checkIdHeaders(request.headers);
  const secrets = receiver.secrets(config.sources, request.params);
  if (secrets === undefined) {
    throw new NotFoundError(
      `no source '${route}' is configured (no secret, so nothing is accepted)`,
    );
  }
  const at = now();
  let deliveryId: string;
  let unparsed: string | undefined;
  try {
    ({ deliveryId } = receiver.verify(request, secrets, {
      now: at,
      toleranceSeconds: config.ingest.toleranceSeconds,
    }));
  } catch (err) {
    // Receivers throw PayloadError from verify only once the sender is authenticated (its id
    // could not be read): accepted under the body's hash, like any delivery not understood.
    if (!(err instanceof PayloadError)) throw err;
    deliveryId = bodyDeliveryId(request.body);
    unparsed = describeFailure(err);
  }
  checkDeliveryId(deliveryId);
  const keys = dedupeKeys(receiver.name, route, deliveryId, request);
  if (keys.some((k) => deliveries.has(k) || durable?.holds(k))) {
    return { outcome: 'duplicate', status: 200, deliveryId };
  }

  const source = `/changegate/${route}`;
  const traceparent = request.headers.get('traceparent') ?? undefined;
  const envelope = (i: number) => ({
    id: i === 0 ? deliveryId : `${deliveryId}#${i}`,
    source,
    time: at,
    traceparent,
  });
  let records: BusRecord[] = [];
  let events: TypedCloudEvent[] = [];
  let reply: unknown;
  let json: { value: unknown } | undefined;
  if (unparsed === undefined) {
    try {
      const parsed = parseJsonText(request.body);
      json = { value: parsed.json };
      const normalized = await receiver.normalize(
        { ...request, deliveryId, json: parsed.json },
        { now: at, rawMaxBytes: config.ingest.rawMaxBytes, seal },
      );
      if (normalized.kind === 'ping') return { outcome: 'ping', status: 200 };
      events = normalized.events.map((n, i) => buildEvent(n, envelope(i)));
      records = events.map((e) =>
        toRecord(
          config.kafka.topics[topicOf(e.type)],
          e,
          undefined,
          parsed.verbatim ? spliceRaw(e.data, parsed.json, parsed.text) : undefined,
        ),
      );
      reply = normalized.reply;
    } catch (err) {
      // A TypeError here is a normalizer meeting a shape it did not expect (a bug to fix, but
      // the sender's delivery is fine): still not a reason to refuse what was verified.
      if (err instanceof PayloadError) unparsed = describeFailure(err);
      else if (err instanceof TypeError) {
        unparsed = describeFailure(new PayloadError('normalizer_error', err.message));
      } else throw err;
    }
  }
  if (unparsed !== undefined) {
    const event = buildEvent(
      unparsedEvent({
        provider: receiver.name,
        source: request.params.source,
        deliveryId,
        headers: request.headers,
        body: request.body,
        json,
        rawMaxBytes: config.ingest.rawMaxBytes,
        reason: unparsed,
      }),
      envelope(0),
    );
    events = [event];
    records = [toRecord(config.kafka.topics[topicOf(event.type)], event)];
    reply = undefined;
  }
  for (const key of keys) records.push(deliveries.marker(key));
  const timeoutMs = Math.min(
    config.ingest.publishTimeoutMs,
    ackWithinMs ?? Number.POSITIVE_INFINITY,
  );
  let durability: Durability = 'kafka';
  if (durable) durability = await durable.publish(records, keys, timeoutMs);
  else await publisher.publish(records, timeoutMs);
  if (durability === 'kafka') for (const key of keys) deliveries.remember(key);
  return {
    outcome: 'accepted',
    status: 202,
    ids: events.map((e) => e.id),
    types: events.map((e) => e.type),
    durability,
    ...(unparsed !== undefined ? { unparsed } : {}),
    ...(reply !== undefined ? { reply } : {}),
  };
}

/** Unguessable per process, so no field of a payload can contain it. */
const RAW_MARK = `changegate-raw-${randomBytes(16).toString('hex')}`;

/**
 * The event data as JSON, with the provider's own (verified, verbatim) body text in place of
 * `raw.payload`: the same document JSON.stringify would give, without encoding the payload —
 * the largest part of most events — a second time. Undefined when the payload is not the body.
 */
function spliceRaw(data: unknown, json: unknown, text: string): string | undefined {
  const raw = (data as { raw?: { payload?: unknown; truncated?: boolean } }).raw;
  if (!raw || raw.truncated || raw.payload !== json) return undefined;
  const encoded = JSON.stringify({ ...(data as object), raw: { ...raw, payload: RAW_MARK } });
  return encoded.replace(`"${RAW_MARK}"`, () => text);
}
