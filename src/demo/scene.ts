import { STATE_LABELS } from '../sandbox/servicenow/change-model.js';
import type { SnRecord } from '../sandbox/servicenow/index.js';
import { DemoError } from './errors.js';
import { send, type DemoDeployment, type GithubDelivery } from './github.js';
import type { Narrator } from './narrator.js';
import type { Observer } from './observer.js';
import type { DemoStack } from './stack.js';

/**
 * What the steps of a deployment's story share. Each step waits for its outcome (an event on
 * the bus, a call at the CI emulator) with a timeout, and says what happened on the timeline.
 *
 * @module
 */

/** What the scenes share. */
export interface Scene {
  stack: DemoStack;
  observer: Observer;
  narrator: Narrator;
  /** Longest wait for any one outcome. */
  timeoutMs: number;
}

/** What the story learnt about one deployment, for the summary. */
export interface DeploymentOutcome {
  deployment: DemoDeployment;
  correlationId: string;
  number: string;
  gate?: 'released' | 'rejected' | 'expired';
  /** From the approval in ServiceNow to GitHub acknowledging the release, ms. */
  approvalToReleaseMs?: number;
  /** The gate worker's own figure: from the update that allowed release to GitHub's answer. */
  gateLatencyMs?: number;
  /** From changegate's 202 to the change.created event, ms. */
  createdAfterMs?: number;
  followUp?: string;
}

/** A CR state as ServiceNow shows it (Authorize, Implement, …). */
export const stateLabel = (record: SnRecord) =>
  STATE_LABELS[record.state ?? ''] ?? record.state ?? '?';

/** The sandbox's current copy of a CR. */
export function changeRecord(stack: DemoStack, number: string): SnRecord {
  const record = stack.servicenow.admin.records('change_request').find((r) => r.number === number);
  if (!record) throw new DemoError(`${number} is not in the ServiceNow sandbox`);
  return record;
}

/** POST a delivery and insist on the status the story promises. */
export async function expectStatus(
  scene: Scene,
  what: string,
  delivery: Pick<GithubDelivery, 'headers' | 'body'>,
  expected: number,
): Promise<number> {
  const { status, text } = await send(scene.stack.receiver.url, delivery);
  if (status !== expected) {
    throw new DemoError(`${what}: expected HTTP ${expected}, got ${status}: ${text.slice(0, 300)}`);
  }
  return performance.now();
}

/** The deployment's correlation id, as changegate's GitHub receiver derives it. */
export const correlationOf = (d: DemoDeployment) =>
  `github/${d.owner}/${d.repo}/run-${d.runId}-${d.environment}`;
