/**
 * What the CI emulator saw, so tests can assert "released exactly once", plus fault injection.
 *
 * @module
 */

export type CiProvider = 'github' | 'gitlab' | 'azure-devops' | 'jenkins' | 'generic';

/**
 * What a call did to the emulated CI system. `released`/`rejected` change a pending gate;
 * `duplicate` reached a gate that was already decided; `refused` failed auth or validation;
 * `fault` was answered by `failNext`; `approved` is an approval that does not by itself run
 * anything (GitLab: the job stays manual until played); `read` only looked (a build's API, a
 * resource-location list) and changed nothing.
 */
export type Effect =
  | 'released'
  | 'rejected'
  | 'approved'
  | 'comment'
  | 'token'
  | 'crumb'
  | 'read'
  | 'duplicate'
  | 'not-pending'
  | 'refused'
  | 'fault';

export interface ReceivedCall {
  provider: CiProvider;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON when the body was JSON, else the raw text. */
  body: unknown;
  status: number;
  effect: Effect;
  /** High-resolution epoch milliseconds (performance.timeOrigin + performance.now()). */
  at: number;
}

export interface Recorder {
  record(call: Omit<ReceivedCall, 'at'>): void;
  received(): ReceivedCall[];
  waitFor(predicate: (call: ReceivedCall) => boolean, timeoutMs: number): Promise<ReceivedCall>;
  /** The next `times` requests to `provider` are answered with `status` and change nothing. */
  failNext(provider: CiProvider, status: number, times?: number): void;
  takeFault(provider: CiProvider): number | undefined;
  reset(): void;
}

/** @example const rec = createRecorder(); rec.failNext('gitlab', 503) */
export function createRecorder(): Recorder {
  const calls: ReceivedCall[] = [];
  const waiters = new Set<{
    predicate: (c: ReceivedCall) => boolean;
    resolve: (c: ReceivedCall) => void;
  }>();
  const faults = new Map<CiProvider, number[]>();
  return {
    record(call) {
      const full = { ...call, at: performance.timeOrigin + performance.now() };
      calls.push(full);
      for (const w of waiters) {
        if (w.predicate(full)) {
          waiters.delete(w);
          w.resolve(full);
        }
      }
    },
    received: () => [...calls],
    waitFor(predicate, timeoutMs) {
      const seen = calls.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (c: ReceivedCall) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`[changegate/sandbox/ci] no matching call within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    failNext(provider, status, times = 1) {
      faults.set(provider, [...(faults.get(provider) ?? []), ...Array<number>(times).fill(status)]);
    },
    takeFault: (provider) => faults.get(provider)?.shift(),
    reset() {
      calls.length = 0;
      faults.clear();
    },
  };
}
