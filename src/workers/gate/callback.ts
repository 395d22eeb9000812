import { UpstreamError, coerceError } from '../../errors.js';
import type { CrState, Input } from '../../gate/machine.js';
import type { Logger } from '../../log.js';
import type { GateCallbacks } from './ports.js';

/** Quick attempts per round; a round that stays unreachable is retried by the machine. */
export const CALLBACK_ATTEMPTS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Call the CI system for one gate, a few quick attempts with backoff, and say how it ended as
 * the machine's next input: done / already decided, failed for good (the CI refused: the gate
 * closes as failed), or unreachable (`callback-failed`: the machine schedules the next round).
 */
export async function callBack(
  callbacks: GateCallbacks,
  log: Logger,
  state: CrState,
  gateId: string,
  decision: 'approve' | 'reject',
  reason: string,
): Promise<Input> {
  const entry = state.gates[gateId];
  if (!entry) return { kind: 'callback-failed', gateId, error: 'no such gate' };
  let last = '';
  for (let attempt = 1; attempt <= CALLBACK_ATTEMPTS; attempt++) {
    try {
      const result = await callbacks.decide(entry.gate.callback, {
        outcome: decision,
        comment: `changegate: ${reason}`,
        // A gate decided before any CR was linked is keyed by its correlation id: no CR to name.
        ...(entry.gate.changeNumber ? { changeNumber: entry.gate.changeNumber } : {}),
        gateId,
      });
      return {
        kind: 'callback-done',
        gateId,
        status: result.status,
        httpStatus: result.httpStatus,
      };
    } catch (err) {
      const error = coerceError(err);
      const retryable = error instanceof UpstreamError ? error.retryable : true;
      if (!retryable) {
        log.error({ gateId, err: error.message }, 'CI callback refused; gate closed as failed');
        return {
          kind: 'callback-done',
          gateId,
          status: 'failed',
          error: error.message,
          ...(error instanceof UpstreamError && error.upstreamStatus
            ? { httpStatus: error.upstreamStatus }
            : {}),
        };
      }
      last = error.message;
      log.warn(
        { gateId, attempt, err: error.message },
        `CI callback failed on attempt ${attempt} of ${CALLBACK_ATTEMPTS}`,
      );
      if (attempt < CALLBACK_ATTEMPTS) await sleep(Math.random() * 250 * 2 ** attempt);
    }
  }
  return { kind: 'callback-failed', gateId, error: last };
}
