import { randomUUID } from 'node:crypto';
import type { BusRecord } from '../bus/port.js';

/** One line of the audit trail: who did what to which record, and why. */
export interface AuditEntry {
  /**
   * Stable id when the writer has one (e.g. derived from the event it handles): a redelivered
   * handler then writes the same id and the ledger keeps the entry once. Random otherwise.
   */
  id?: string;
  /** CR number, or the correlation id until a CR exists. */
  key: string;
  actor: string;
  action: string;
  reason?: string;
  correlationId?: string;
  detail?: Record<string, unknown>;
}

/**
 * Audit records for `changegate.audit`. They travel in the same publish as the event they
 * explain, so a decision and its audit line land together.
 */
export function auditRecord(topic: string, entry: AuditEntry, at = new Date()): BusRecord {
  const { id = randomUUID(), ...rest } = entry;
  return {
    topic,
    key: entry.key,
    value: Buffer.from(JSON.stringify({ id, at: at.toISOString(), ...rest })),
    headers: { 'content-type': 'application/json', 'changegate-audit-action': entry.action },
  };
}
