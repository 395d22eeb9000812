import type { Callback } from '../events/common.js';

/**
 * The port workers use to release or reject a gate in the CI system that waits on it. Adapters
 * (one per provider) know wire formats and credentials, never policy.
 *
 * @module
 */

export type Outcome = 'approve' | 'reject';

/** What the gate worker decided. `comment` is shown in the CI system where it supports one. */
export interface Decision {
  outcome: Outcome;
  comment: string;
  changeNumber?: string;
  /** The gate being decided: signed into generic callbacks so a receiver can check it. */
  gateId?: string;
}

/**
 * `already-decided`: the CI system answered that nothing is pending any more (a redelivered
 * decision, or a human decided first). The gate worker counts it as done: exactly-once release
 * rests on the target being idempotent, not on us never repeating a call.
 */
export interface DecideResult {
  status: 'done' | 'already-decided';
  httpStatus: number;
}

export interface CallbackClient {
  /** @throws UpstreamError (`retryable` says whether a retry can help). */
  decide(callback: Callback, decision: Decision): Promise<DecideResult>;
  /** A status line while the gate waits, where the provider supports one. */
  comment?(callback: Callback, text: string): Promise<void>;
}

/** The part of a pino logger the clients use; pino's `Logger` satisfies it. */
export interface CiLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The default: logs nothing. */
export const SILENT_LOG: CiLog = { debug() {}, info() {}, warn() {} };
