import { z } from 'zod';

/**
 * The outbound message our ServiceNow business rule (and the sandbox instance) POSTs, signed as a
 * Standard Webhook with `GlideCertificateEncryption.generateMac`:
 *
 * ```json
 * {"type":"change.updated","timestamp":"2026-11-25T09:00:00Z",
 *  "data":{"table":"change_request","sys_id":"<32 hex>","number":"CHG0010001","state":"-1",
 *          "approval":"approved","correlation_id":"github/acme/api/run-1-production",
 *          "start_date":"2026-11-25 09:00:00","end_date":"2026-11-25 11:00:00",
 *          "sys_updated_on":"2026-11-25 09:00:00","...any other field":"string value"}}
 * ```
 * `data` values are what `GlideRecord.getValue()` returns: strings, or null for an empty field.
 * Dates are ServiceNow's internal value format, `YYYY-MM-DD HH:mm:ss` in UTC, and stay so.
 *
 * @module
 */

/** `GlideDateTime.getValue()`: UTC, no zone designator. */
export const SERVICENOW_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Fields with a place of their own in the events; every other string field goes to `fields`. */
export const KNOWN_FIELDS = [
  'table',
  'sys_id',
  'number',
  'state',
  'approval',
  'correlation_id',
  'start_date',
  'end_date',
  'sys_updated_on',
] as const;

/** getValue() gives null for an empty field; treat null and '' alike as absent. */
const value = z
  .string()
  .max(10_000)
  .nullish()
  .transform((v) => (v ? v : undefined));

const date = value.refine((v) => v === undefined || SERVICENOW_DATE.test(v), {
  message: 'must be YYYY-MM-DD HH:mm:ss (UTC)',
});

const RecordDataSchema = z.looseObject({
  table: z
    .string()
    .regex(/^[a-z0-9_]{1,80}$/)
    .optional()
    .describe('Table name, e.g. change_request or incident.'),
  sys_id: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .describe('The record sys_id (32 hex).'),
  number: value.describe('Record number, e.g. CHG0010001.'),
  state: value.describe('State value, e.g. "-1" (Implement).'),
  approval: value.describe('Approval value, e.g. approved.'),
  correlation_id: value.describe('What changegate wrote when it created the record.'),
  start_date: date.describe('Planned start, YYYY-MM-DD HH:mm:ss UTC.'),
  end_date: date.describe('Planned end, YYYY-MM-DD HH:mm:ss UTC.'),
  sys_updated_on: date.describe('When the record was updated, YYYY-MM-DD HH:mm:ss UTC.'),
});

const timestamp = z
  .string()
  .max(64)
  .optional()
  .describe('When the message was sent: ISO 8601, or GlideDateTime.getValue().');

/** The outbound message, discriminated on `type`. */
export const ServiceNowMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('change.updated'), timestamp, data: RecordDataSchema }),
  z.object({
    type: z.enum(['incident.updated', 'record.updated']),
    timestamp,
    data: RecordDataSchema,
  }),
  z.object({ type: z.literal('ping'), timestamp, data: z.unknown().optional() }),
]);
export type ServiceNowMessage = z.output<typeof ServiceNowMessageSchema>;
export type ServiceNowRecordData = z.output<typeof RecordDataSchema>;

/**
 * Every extra field with a primitive value, as a string (what `getValue()` would have sent).
 * Objects and arrays are not field values; they stay in `raw` only.
 */
export function extraFields(data: Record<string, unknown>): Record<string, string> {
  const known = new Set<string>(KNOWN_FIELDS);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (known.has(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      out[k] = String(v);
  }
  return out;
}
