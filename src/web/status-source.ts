/**
 * The status page's data port: what the page shows, and a way to hear that it changed. The
 * runtime fills it from the bus (bus-status-source.ts); tests may fill a `StatusStore` directly.
 *
 * @module
 */

/** What a waiting gate waits for, in the words a person scans for. */
export type WaitingFor = 'approval' | 'window' | 'rule' | 'state' | 'change' | 'other';

export type GateStatus = 'waiting' | 'deciding' | 'released' | 'rejected' | 'expired';

/** One gate: a deployment held until its CR allows it. */
export interface GateView {
  gateId: string;
  changeNumber: string;
  provider: string;
  project: string;
  environment: string;
  runUrl?: string;
  status: GateStatus;
  /** Only while `waiting`. */
  waitingFor?: WaitingFor;
  /** The gate worker's own words: why it waits, or why it decided. */
  reason: string;
  registeredAt: string;
  decidedAt?: string;
  expiresAt?: string;
  /** The CR as the gate worker last saw it (ServiceNow values, e.g. state "-3"). */
  changeState?: string;
  approval?: string;
}

/** One event of `changegate.changes`, summarised. */
export interface ChangeActivity {
  id: string;
  at: string;
  /** The event type without the `dev.changegate.` prefix, e.g. `gate.released`. */
  kind: string;
  changeNumber: string;
  summary: string;
}

/** An incident changegate filed, from the audit trail. */
export interface IncidentView {
  number: string;
  status: 'open' | 'resolved';
  reason: string;
  /** Failures counted on it (1 when filed). */
  count: number;
  correlationId?: string;
  changeNumber?: string;
  at: string;
}

/** One dead-lettered record, from its headers. */
export interface DeadLetterView {
  key: string | null;
  worker: string;
  error: string;
  originTopic: string;
  at: string;
}

export interface StatusSnapshot {
  generatedAt: string;
  /** Waiting and deciding gates first (oldest first), then recent decisions (newest first). */
  gates: GateView[];
  /** Newest first. */
  changes: ChangeActivity[];
  /** Newest first. */
  incidents: IncidentView[];
  dlq: { size: number; recent: DeadLetterView[] };
}

export interface StatusSource {
  snapshot(): StatusSnapshot;
  /** `listener` runs after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}
