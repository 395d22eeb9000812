import type { FaultSpec } from '../../../src/sandbox/servicenow/index.js';
import type { FaultStack } from './fault-stack.js';

/**
 * The fault injector. ServiceNow faults are on for the whole run (by probability, in the
 * sandbox); process faults run one after another, in rotation, while the driver sends:
 * SIGKILL the receiver while requests are in flight, SIGKILL the worker, stop Kafka gracefully,
 * SIGKILL Kafka — each followed by a restart, timed.
 *
 * @module
 */

export type ProcessFault = 'receiver-kill9' | 'worker-kill9' | 'kafka-stop' | 'kafka-kill9';

export const ROTATION: readonly ProcessFault[] = [
  'receiver-kill9',
  'kafka-stop',
  'worker-kill9',
  'kafka-kill9',
];

export interface FaultEvent {
  kind: ProcessFault;
  /** Requests on the wire when the receiver was killed. */
  inFlight?: number;
  /** From the kill (or stop) until the process served again. */
  downMs: number;
}

/**
 * ServiceNow faults for ~`share` of API calls, split over 429 (Retry-After 1 s), 500, a hang
 * until the client times out, and a reset after the write committed (the client never learns
 * that its POST landed — the case that duplicates records when a client retries blind).
 */
export function sandboxFaults(share: number): FaultSpec[] {
  // Faults are tried in order, each with its own probability; these make ~`share` in total.
  const kinds: [FaultSpec['kind'], number][] = [
    ['429', 0.3],
    ['500', 0.3],
    ['timeout', 0.25],
    ['reset-after-commit', 0.15],
  ];
  let left = 1;
  return kinds.map(([kind, part]) => {
    const probability = (share * part) / left;
    left -= share * part;
    return { kind, path: '/api/*', probability, retryAfterSeconds: 1 };
  });
}

export async function injectSandboxFaults(stack: FaultStack, share: number): Promise<void> {
  for (const spec of sandboxFaults(share)) {
    const res = await fetch(`${stack.sn.url}/sandbox/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    if (!res.ok) throw new Error(`[faults] sandbox refused fault ${spec.kind}: ${res.status}`);
  }
}

export async function clearSandboxFaults(stack: FaultStack): Promise<void> {
  await fetch(`${stack.sn.url}/sandbox/admin/faults`, { method: 'DELETE' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Apply one process fault and bring the process back. */
async function inject(
  stack: FaultStack,
  kind: ProcessFault,
  inFlight: () => number,
  kafkaDownMs: number,
): Promise<FaultEvent> {
  const started = Date.now();
  switch (kind) {
    case 'receiver-kill9': {
      // "Mid-request": wait (briefly) until the driver has something on the wire.
      const until = Date.now() + 3000;
      while (inFlight() === 0 && Date.now() < until) await sleep(5);
      const onWire = inFlight();
      await stack.killReceiver();
      const killedAt = Date.now();
      await stack.restartReceiver();
      return { kind, inFlight: onWire, downMs: Date.now() - killedAt };
    }
    case 'worker-kill9':
      await stack.killWorker();
      await stack.restartWorker();
      break;
    case 'kafka-stop':
    case 'kafka-kill9':
      await (kind === 'kafka-stop' ? stack.broker.stop() : stack.broker.kill());
      await sleep(kafkaDownMs);
      await stack.broker.start();
      break;
  }
  return { kind, downMs: Date.now() - started };
}

export interface Chaos {
  events: FaultEvent[];
  /** Finish the rotation at least once (restarts included), then stop. */
  stop(): Promise<void>;
}

/** Run the rotation with `gapMs` of calm between faults until stopped. */
export function startChaos(
  stack: FaultStack,
  { inFlight, gapMs, kafkaDownMs }: { inFlight: () => number; gapMs: number; kafkaDownMs: number },
): Chaos {
  const events: FaultEvent[] = [];
  let stopped = false;
  // A process that does not come back ends the rotation; stop() reports it (never unhandled).
  const loop = (async () => {
    for (let i = 0; !stopped || i < ROTATION.length; i++) {
      await sleep(gapMs);
      const kind = ROTATION[i % ROTATION.length]!;
      const event = await inject(stack, kind, inFlight, kafkaDownMs);
      events.push(event);
      console.log(`[faults] ${kind}: back after ${(event.downMs / 1000).toFixed(1)} s`);
    }
  })().then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return {
    events,
    async stop() {
      stopped = true;
      const failed = await loop;
      if (failed)
        throw new Error(`[faults] a process did not come back: ${failed.message}`, {
          cause: failed,
        });
    },
  };
}
