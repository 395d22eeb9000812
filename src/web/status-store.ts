import { z } from 'zod';
import type { CloudEvent } from '../events/envelope.js';
import { summarise } from './change-activity.js';
import { waitingFor } from './waiting-for.js';
import type {
  ChangeActivity,
  DeadLetterView,
  GateView,
  IncidentView,
  StatusSnapshot,
} from './status-source.js';
import { readDeadLetter } from '../events/dead-letter.js';

/**
 * The fields of a gate-state record (the gate worker's `CrState`) the page reads. Parsed
 * leniently: a record this page cannot read is skipped, it never stops the page.
 */
const CrStateSchema = z.object({
  number: z.string(),
  change: z.object({ state: z.string().optional(), approval: z.string().optional() }).optional(),
  gates: z.record(
    z.string(),
    z.object({
      gate: z.object({
        gateId: z.string(),
        changeNumber: z.string(),
        provider: z.string(),
        project: z.string(),
        environment: z.string(),
        runUrl: z.string().optional(),
        registeredAt: z.string(),
      }),
      status: z.enum(['waiting', 'deciding', 'released', 'rejected', 'expired']),
      reason: z.string(),
      expiresAt: z.number().optional(),
      decidedAt: z.number().optional(),
    }),
  ),
  touchedAt: z.number(),
});
type CrStateView = z.infer<typeof CrStateSchema>;

const AuditSchema = z.object({
  at: z.string(),
  key: z.string(),
  action: z.string(),
  reason: z.string().optional(),
  correlationId: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export interface StatusStoreOptions {
  /** Recent changes, decided gates, incidents and dead letters kept. Default 50. */
  recent?: number;
  clock?: () => number;
}

/**
 * The page's memory: the last state of every CR, and rings of recent change events, incidents
 * and dead letters. Bounded, so a receiver that runs for months does not grow with history.
 */
export class StatusStore {
  private readonly recent: number;
  private readonly clock: () => number;
  private readonly crs = new Map<string, CrStateView>();
  private changes: ChangeActivity[] = [];
  private readonly incidents = new Map<string, IncidentView>();
  private deadLetters: DeadLetterView[] = [];
  private dlqSize = 0;
  private readonly listeners = new Set<() => void>();

  constructor({ recent = 50, clock = Date.now }: StatusStoreOptions = {}) {
    this.recent = recent;
    this.clock = clock;
  }

  /** A record of the compacted gate-state topic; `null` (tombstone) forgets the CR. */
  applyGateState(key: string, value: unknown): boolean {
    if (value === null) {
      if (!this.crs.delete(key)) return false;
      return this.changed();
    }
    const parsed = CrStateSchema.safeParse(value);
    if (!parsed.success) return false;
    this.crs.delete(key); // re-insert: Map order is then least recently touched first
    this.crs.set(key, parsed.data);
    this.pruneCrs();
    return this.changed();
  }

  /** An event of `changegate.changes`. */
  applyChangeEvent(event: CloudEvent): boolean {
    if (this.changes.some((c) => c.id === event.id)) return false; // a redelivery
    const activity = summarise(event);
    if (!activity) return false;
    this.changes.push(activity);
    this.changes.sort((a, b) => b.at.localeCompare(a.at));
    this.changes.length = Math.min(this.changes.length, this.recent);
    return this.changed();
  }

  /** A line of `changegate.audit`; only incident lines matter here. */
  applyAudit(value: unknown): boolean {
    const parsed = AuditSchema.safeParse(value);
    if (!parsed.success || !parsed.data.action.startsWith('incident.')) return false;
    const { at, key, action, reason = '', correlationId, detail = {} } = parsed.data;
    const known = this.incidents.get(key);
    let next: IncidentView;
    if (action === 'incident.created') {
      next = {
        number: key,
        status: 'open',
        reason,
        count: 1,
        at,
        ...(correlationId ? { correlationId } : {}),
        ...(typeof detail.change === 'string' ? { changeNumber: detail.change } : {}),
      };
    } else if (action === 'incident.repeated') {
      const count = typeof detail.count === 'number' ? detail.count : (known?.count ?? 1) + 1;
      next = { ...(known ?? { number: key, status: 'open', reason }), count, reason, at };
    } else if (action === 'incident.resolved') {
      next = { ...(known ?? { number: key, count: 1, reason }), status: 'resolved', at };
      if (correlationId) next.correlationId = correlationId;
    } else {
      return false;
    }
    this.incidents.delete(key);
    this.incidents.set(key, next);
    while (this.incidents.size > this.recent) {
      this.incidents.delete(this.incidents.keys().next().value!);
    }
    return this.changed();
  }

  /** A record of `changegate.dlq`: its headers say which worker gave up and why. */
  applyDeadLetter(record: {
    key: string | null;
    headers: Record<string, string>;
    timestamp: number;
  }): boolean {
    const letter = readDeadLetter(record.headers);
    this.dlqSize += 1;
    this.deadLetters.unshift({
      key: record.key,
      worker: letter?.worker ?? 'unknown',
      error: letter?.error ?? '',
      originTopic: letter?.originTopic ?? 'unknown',
      at: letter?.deadLetteredAt ?? new Date(record.timestamp).toISOString(),
    });
    this.deadLetters.length = Math.min(this.deadLetters.length, Math.min(this.recent, 10));
    return this.changed();
  }

  snapshot(): StatusSnapshot {
    const open: GateView[] = [];
    const decided: GateView[] = [];
    for (const cr of this.crs.values()) {
      for (const [gateId, entry] of Object.entries(cr.gates)) {
        const view: GateView = {
          gateId,
          changeNumber: cr.number,
          provider: entry.gate.provider,
          project: entry.gate.project,
          environment: entry.gate.environment,
          status: entry.status,
          reason: entry.reason,
          registeredAt: entry.gate.registeredAt,
          ...(entry.gate.runUrl ? { runUrl: entry.gate.runUrl } : {}),
          ...(entry.status === 'waiting' ? { waitingFor: waitingFor(entry.reason) } : {}),
          ...(entry.decidedAt !== undefined
            ? { decidedAt: new Date(entry.decidedAt).toISOString() }
            : {}),
          ...(entry.expiresAt !== undefined
            ? { expiresAt: new Date(entry.expiresAt).toISOString() }
            : {}),
          ...(cr.change?.state !== undefined ? { changeState: cr.change.state } : {}),
          ...(cr.change?.approval !== undefined ? { approval: cr.change.approval } : {}),
        };
        (isOpen(entry.status) ? open : decided).push(view);
      }
    }
    open.sort((a, b) => a.registeredAt.localeCompare(b.registeredAt));
    decided.sort((a, b) => (b.decidedAt ?? '').localeCompare(a.decidedAt ?? ''));
    return {
      generatedAt: new Date(this.clock()).toISOString(),
      gates: [...open, ...decided.slice(0, this.recent)],
      changes: [...this.changes],
      incidents: [...this.incidents.values()].reverse(),
      dlq: { size: this.dlqSize, recent: [...this.deadLetters] },
    };
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): true {
    for (const listener of this.listeners) listener();
    return true;
  }

  /** Forget the least recently touched CRs that have nothing open once past the budget. */
  private pruneCrs(): void {
    const budget = this.recent * 2;
    if (this.crs.size <= budget) return;
    for (const [number, cr] of this.crs) {
      if (this.crs.size <= budget) break;
      if (!Object.values(cr.gates).some((g) => isOpen(g.status))) this.crs.delete(number);
    }
  }
}

const isOpen = (status: string) => status === 'waiting' || status === 'deciding';
