import { randomUUID } from 'node:crypto';
import type { BusRecord } from '../bus/port.js';

/** One line of the audit trail: who did what to which record, and why. */
export interface AuditEntry {
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
  return {
    topic,
    key: entry.key,
    value: Buffer.from(JSON.stringify({ id: randomUUID(), at: at.toISOString(), ...entry })),
    headers: { 'content-type': 'application/json', 'changegate-audit-action': entry.action },
  };
}
