import { z } from 'zod';

/**
 * An audit line as it travels on `changegate.audit` (what {@link auditRecord} writes): the entry
 * plus its id and time. Parsed leniently on purpose: `detail` is whatever the writer put there,
 * and an unknown extra member is kept, so the ledger never drops part of what a writer said.
 *
 * @module
 */
export const AuditLineSchema = z.looseObject({
  id: z.string().min(1),
  at: z.string().min(1),
  key: z.string().min(1),
  actor: z.string().min(1),
  action: z.string().min(1),
  reason: z.string().optional(),
  correlationId: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export type AuditLine = z.infer<typeof AuditLineSchema>;
