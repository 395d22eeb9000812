import { startProcessStack, type ProcessStack } from '../../support/process-stack/stack.js';

/**
 * The e2e suite's process stack: the ServiceNow sandbox, the CI emulator, a receiver and
 * change+gate workers as separate processes on the run's broker, with the gate policies the
 * scenarios route to by environment. One process set per test file.
 *
 * @module
 */

/** What a hand-raised CR carries so that the `controlled` policy lets a pipeline link it. */
export const LINKABLE_JUSTIFICATION = 'release planned with changegate';

/** Environments routed to the special gate policies (see {@link gatePolicies}). */
export const ENV = {
  /** Default gate policy. */
  production: 'production',
  /** A blackout covering the whole run. */
  freeze: 'freeze-production',
  /** Expires after 0.05 minutes (3 s). */
  hurry: 'hurry-production',
} as const;

/** Gate policies in effect; `timeoutMinutes` of `hurry` is what the expiry test waits on. */
export function gatePolicies(now = Date.now()) {
  return {
    default: {},
    freeze: {
      blackouts: [
        {
          name: 'e2e freeze',
          start: new Date(now - 3600_000).toISOString(),
          end: new Date(now + 3 * 3600_000).toISOString(),
        },
      ],
    },
    hurry: { timeoutMinutes: 0.05 },
  };
}

/**
 * Start the stack on `brokers`, with topics and consumer groups unique to `name`.
 * @example const stack = await startE2eStack({ name: 'providers', brokers: kafkaBrokers() })
 */
export function startE2eStack({
  name,
  brokers,
  workers,
  partitions,
}: {
  name: string;
  brokers: string[];
  /** One worker process per entry, each running the named workers (default `change,gate`). */
  workers?: string[];
  /** Partitions of every topic (default 3). */
  partitions?: number;
}): Promise<ProcessStack> {
  return startProcessStack({
    name: `e2e-${name}`,
    brokers,
    ...(workers ? { workers } : {}),
    ...(partitions ? { partitions } : {}),
    policies: {
      changes: {
        policies: [
          {
            name: 'freeze',
            match: { environment: `${ENV.freeze}*` },
            mode: 'normal',
            gate: 'freeze',
          },
          { name: 'hurry', match: { environment: `${ENV.hurry}*` }, mode: 'normal', gate: 'hurry' },
          {
            name: 'controlled',
            match: {},
            mode: 'normal',
            gate: 'default',
            // A CR raised by hand may be named by a pipeline when it carries this justification.
            link: { byNumber: true, fields: { justification: LINKABLE_JUSTIFICATION } },
          },
        ],
      },
      gates: { policies: gatePolicies() },
    },
    servicenow: { retry: { baseDelayMs: 20 } },
  });
}
