import { z } from 'zod';
import { RawSchema } from './common.js';

/** change_request field values as ServiceNow stores them (strings; state is e.g. "-1"). */
export const ChangeUpdatedDataSchema = z.object({
  sysId: z.string().min(1),
  number: z.string().min(1),
  state: z.string().optional(),
  approval: z.string().optional(),
  correlationId: z.string().optional(),
  startDate: z.string().optional(),
  endDate: z.string().optional(),
  /** Every other field the business rule sent (risk, u_cab_ok, …): gate rules may read them. */
  fields: z.record(z.string(), z.string()).default({}),
  /** When ServiceNow says the update happened (the sender's timestamp). */
  updatedAt: z.string().optional(),
  deliveryId: z.string().min(1),
  raw: RawSchema,
});
export type ChangeUpdatedData = z.infer<typeof ChangeUpdatedDataSchema>;

/** Any other record ServiceNow pushes (incident, cmdb_ci, …). */
export const RecordUpdatedDataSchema = z.object({
  table: z.string().min(1),
  sysId: z.string().min(1),
  number: z.string().optional(),
  fields: z.record(z.string(), z.string()).default({}),
  updatedAt: z.string().optional(),
  deliveryId: z.string().min(1),
  raw: RawSchema,
});
export type RecordUpdatedData = z.infer<typeof RecordUpdatedDataSchema>;
