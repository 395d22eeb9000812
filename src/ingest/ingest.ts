import type { Config } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import { buildEvent, topicOf } from '../events/build.js';
import { toRecord } from '../bus/cloudevents.js';
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
  now?: () => Date;
}

export type IngestOutcome =
  | { outcome: 'accepted'; status: 202; ids: string[]; types: string[]; reply?: unknown }
  | { outcome: 'duplicate'; status: 200; deliveryId: string }
  | { outcome: 'ping'; status: 200 };

/**
 * One delivery, end to end: find the source's secrets → verify over the raw bytes → drop a
 * redelivery → parse → normalize → validate (zod) → publish and wait for the broker's ack.
 * Pure of HTTP: the route only maps the outcome or the typed error to a response.
 *
 * @throws NotFoundError (404) when the source has no secret configured,
 *   VerificationError (401), PayloadError (400), BusUnavailableError (503).
 */
export async function ingest(
  receiver: Receiver<never>,
  request: RawRequest,
  { config, publisher, deliveries, seal, now = () => new Date() }: IngestDeps,
  { ackWithinMs }: { ackWithinMs?: number | undefined } = {},
): Promise<IngestOutcome> {
  const route = request.params.source ? `${receiver.name}/${request.params.source}` : receiver.name;
  const secrets = receiver.secrets(config.sources, request.params);
  if (secrets === undefined) {
    throw new NotFoundError(
      `no source '${route}' is configured (no secret, so nothing is accepted)`,
    );
  }
  const at = now();
  const { deliveryId } = receiver.verify(request, secrets, {
    now: at,
    toleranceSeconds: config.ingest.toleranceSeconds,
  });
  const dedupeKey = `${route}:${deliveryId}`;
  if (deliveries.has(dedupeKey)) return { outcome: 'duplicate', status: 200, deliveryId };

  const { json, text, verbatim } = parseJsonText(request.body);
  const normalized = await receiver.normalize(
    { ...request, deliveryId, json },
    { now: at, rawMaxBytes: config.ingest.rawMaxBytes, seal },
  );
  if (normalized.kind === 'ping') return { outcome: 'ping', status: 200 };

  const source = `/changegate/${route}`;
  const traceparent = request.headers.get('traceparent') ?? undefined;
  const events = normalized.events.map((n, i) =>
    buildEvent(n, {
      id: i === 0 ? deliveryId : `${deliveryId}#${i}`,
      source,
      time: at,
      traceparent,
    }),
  );
  const records = events.map((e) =>
    toRecord(
      config.kafka.topics[topicOf(e.type)],
      e,
      undefined,
      verbatim ? spliceRaw(e.data, json, text) : undefined,
    ),
  );
  records.push(deliveries.marker(dedupeKey));
  await publisher.publish(
    records,
    Math.min(config.ingest.publishTimeoutMs, ackWithinMs ?? Number.POSITIVE_INFINITY),
  );
  deliveries.remember(dedupeKey);
  return {
    outcome: 'accepted',
    status: 202,
    ids: events.map((e) => e.id),
    types: events.map((e) => e.type),
    ...(normalized.reply !== undefined ? { reply: normalized.reply } : {}),
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
