import type { OwnBroker } from '../../support/process-stack/own-broker.js';
import { startProcessStack, type ProcessStack } from '../../support/process-stack/stack.js';

/**
 * The process set the fault suite breaks on purpose: a Kafka broker of its own, the ServiceNow
 * sandbox with business-rule jitter, the CI emulator, a receiver and a change+gate+incident
 * worker; the policies its workload is planned against.
 *
 * @module
 */

/** Pipelines whose failures file incidents (`acme/fault-svc-<n>`). */
export const INCIDENT_PROJECT_PREFIX = 'acme/fault-svc-';
/** Deployments here are not change-controlled (no CR, no gate): filler traffic. */
export const UNCONTROLLED_ENV = 'staging';

export type FaultStack = ProcessStack & { broker: OwnBroker };

export interface FaultStackOptions {
  kafkaPort: number;
  /** Random 0..N ms delay per business-rule message (out-of-order delivery). */
  outboundJitterMs: number;
}

/**
 * Start every process; resolves once the receiver is ready and the worker consumes.
 * @throws Error (with the log directory) when a process does not come up
 */
export function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  return startProcessStack({
    name: 'faults',
    ownBrokerPort: options.kafkaPort,
    workers: ['change,gate,incident'],
    startTimeoutMs: 120_000,
    sandbox: {
      outboundJitterMs: options.outboundJitterMs,
      // An instance with the whole install kit (deploy/servicenow): the journal read ACL the
      // incident worker counts repeat failures with (step 5c) and the optional count field
      // the tally reads (step 5d).
      readAcls: { sys_journal_field: ['itil'] },
      dictionary: { incident: { columns: { u_changegate_failures: 'integer' } } },
    },
    policies: {
      changes: {
        policies: [
          { name: 'uncontrolled', match: { environment: `${UNCONTROLLED_ENV}*` }, mode: 'none' },
          { name: 'controlled', match: {}, mode: 'normal', gate: 'default' },
        ],
      },
      gates: { policies: { default: {} } },
      incidents: {
        policies: [
          {
            name: 'fault-pipelines',
            match: { project: `${INCIDENT_PROJECT_PREFIX}*` },
            on: ['pipeline.failed'],
          },
        ],
      },
    },
    // Injected timeouts hang until the client gives up: keep that short.
    servicenow: { timeoutMs: 1500, retry: { baseDelayMs: 50, maxDelayMs: 2000 } },
  });
}
