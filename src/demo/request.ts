import { randomUUID } from 'node:crypto';
import { DemoError } from './errors.js';
import { githubDelivery, protectionRuleRequested, type DemoDeployment } from './github.js';
import {
  changeRecord,
  correlationOf,
  expectStatus,
  stateLabel,
  type DeploymentOutcome,
  type Scene,
} from './scene.js';

/**
 * GitHub asks whether the run may enter the environment: signed delivery (202); optionally a
 * tampered copy (401) and a redelivery (200) to show verification and dedupe.
 */
export async function requestDeployment(
  scene: Scene,
  d: DemoDeployment,
  { showDefences }: { showDefences: boolean },
): Promise<number> {
  const { narrator, stack } = scene;
  const { paint } = narrator;
  const payload = protectionRuleRequested(d);
  const delivery = githubDelivery('deployment_protection_rule', payload, stack.secrets.github);
  const accepted = await expectStatus(scene, 'signed deployment_protection_rule', delivery, 202);
  narrator.say(
    `GitHub → POST /hooks/github  deployment_protection_rule  ${d.owner}/${d.repo} → ${d.environment}  ${paint.green('202 Accepted')}`,
    accepted,
  );
  narrator.detail(
    paint.dim(
      `run ${d.runId}, commit ${d.sha.slice(0, 7)} "${d.title}", delivery ${delivery.deliveryId}`,
    ),
  );
  if (!showDefences) return accepted;

  // Same signature, different bytes: what an attacker replaying a captured delivery would send.
  const tampered = {
    headers: { ...delivery.headers, 'x-github-delivery': randomUUID() },
    body: delivery.body.replace(
      `"environment":"${d.environment}"`,
      `"environment":"${d.environment}-tampered"`,
    ),
  };
  const refused = await expectStatus(scene, 'tampered copy', tampered, 401);
  narrator.say(
    `a tampered copy (environment edited, signature kept)        ${paint.red('401 Unauthorized')}  signature checked over the raw bytes`,
    refused,
  );
  const duplicate = await expectStatus(scene, 'redelivery', delivery, 200);
  narrator.say(
    `GitHub redelivers the same delivery ${delivery.deliveryId.slice(0, 8)}…        ${paint.yellow('200 OK')}  deduplicated, not published twice`,
    duplicate,
  );
  return accepted;
}

/** Wait for the change worker to create the CR and register the gate; show the CR as stored. */
export async function awaitChange(
  scene: Scene,
  d: DemoDeployment,
  acceptedAt: number,
): Promise<DeploymentOutcome> {
  const { narrator, observer, timeoutMs, stack } = scene;
  const { paint } = narrator;
  const correlationId = correlationOf(d);
  const created = await observer.waitFor(
    `change request for ${correlationId}`,
    (e) =>
      (e.type === 'dev.changegate.change.created' || e.type === 'dev.changegate.change.linked') &&
      e.data.correlationId === correlationId,
    timeoutMs,
  );
  const number = String(created.data.changeNumber);
  await observer.waitFor(
    `gate registration for ${number}`,
    (e) => e.type === 'dev.changegate.gate.registered' && e.data.changeNumber === number,
    timeoutMs,
  );
  const cr = changeRecord(stack, number);
  const createdAfterMs = Math.round(created.at - acceptedAt);
  narrator.say(
    `change worker created ${paint.bold(number)} in ServiceNow  type=${cr.type}  state=${paint.bold(stateLabel(cr))}  approval=${cr.approval}  (${createdAfterMs} ms after the 202)`,
    created.at,
  );
  narrator.detail(paint.dim(`"${cr.short_description}"  correlation_id=${cr.correlation_id}`));
  return { deployment: d, correlationId, number, createdAfterMs };
}

/** Show that the deployment is held: the gate is registered, GitHub's run still waits. */
export function showHeld(scene: Scene, outcome: DeploymentOutcome): void {
  const { stack, narrator } = scene;
  const d = outcome.deployment;
  const decided = stack.ci
    .received()
    .filter((c) => c.path.includes(`/runs/${d.runId}/`) && c.effect === 'released');
  const waiting = stack.ci.github.state(d.owner, d.repo, d.runId, d.environment);
  if (decided.length > 0 || waiting !== 'pending') {
    throw new DemoError(
      `run ${d.runId} should be held until ${outcome.number} is approved, but GitHub says ${waiting}`,
    );
  }
  narrator.say(
    `deployment ${narrator.paint.yellow('held')}: gate registered on ${outcome.number}, GitHub run ${d.runId} waits at "${d.environment}" (${waiting})`,
  );
}
