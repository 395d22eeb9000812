import { z } from 'zod';

/**
 * CloudEvents 1.0 envelope (https://github.com/cloudevents/spec, core attributes).
 * `partitionkey` is the partitioning extension: the Kafka key the event was written under.
 * `traceparent` is the distributed-tracing extension (W3C Trace Context).
 */
export const CloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().optional(),
  partitionkey: z.string().optional(),
  traceparent: z.string().optional(),
  data: z.unknown(),
});

export type CloudEvent<D = unknown> = Omit<z.infer<typeof CloudEventSchema>, 'data'> & { data: D };
