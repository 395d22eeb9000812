import { STATE_LABELS } from '../sandbox/servicenow/change-model.js';
import type { Observed } from './observer.js';
import { stateLabel, type DeploymentOutcome, type Scene } from './scene.js';
import type { DemoStack } from './stack.js';

/** Approve in the sandbox, as a change manager would in the ServiceNow UI. */
export function approve(scene: Scene, outcome: DeploymentOutcome, comment: string): number {
  const at = performance.now();
  const cr = scene.stack.servicenow.admin.approve(outcome.number, comment);
  scene.narrator.say(
    `${outcome.number} approved in ServiceNow ("${comment}") → state ${stateLabel(cr)}`,
    at,
  );
  return at;
}

/**
 * When ServiceNow's business rule stamped the approval (or rejection) of a CR, on our timeline:
 * the approval time when a person approved it outside the demo.
 */
export function decisionStampedAt(stack: DemoStack, sysId: string): number | undefined {
  const sent = stack.servicenow.admin.outbound
    .sent()
    .find((o) => o.sysId === sysId && /"approval":"(?:approved|rejected)"/.test(o.body));
  return sent ? Date.parse(sent.at) - performance.timeOrigin : undefined;
}

/**
 * Follow the approval through: business rule → gate moves the CR to Implement → GitHub gets the
 * release (or the rejection). Returns the outcome with the gate decision and latencies.
 */
export async function awaitDecision(
  scene: Scene,
  outcome: DeploymentOutcome,
  {
    approvedAt,
    byPerson = false,
    timeoutMs = scene.timeoutMs,
  }: {
    /** When the CR was approved (`performance.now()`), known once it happened. */
    approvedAt: () => number | undefined;
    /** A person approved it (`--interactive`): say so on the timeline. */
    byPerson?: boolean;
    timeoutMs?: number;
  },
): Promise<DeploymentOutcome> {
  const { observer, narrator, stack } = scene;
  const { paint } = narrator;
  const { number, deployment: d } = outcome;
  const isChange = (e: Observed) =>
    e.type === 'dev.changegate.change.updated' && e.data.number === number;

  const decided = await observer.waitFor(
    `gate decision for ${number}`,
    (e) =>
      e.type.startsWith('dev.changegate.gate.') &&
      e.type !== 'dev.changegate.gate.registered' &&
      e.data.changeNumber === number,
    timeoutMs,
  );
  const decision = decided.type.slice('dev.changegate.gate.'.length) as 'released' | 'rejected';
  // One CR's updates and decisions share a partition, so these arrived before the decision.
  const pushed = observer
    .seen()
    .find((e) => isChange(e) && (e.data.approval === 'approved' || e.data.approval === 'rejected'));
  const approved = approvedAt();
  if (byPerson && pushed) {
    const how =
      pushed.data.approval === 'approved' ? paint.green('approved') : paint.red('rejected');
    narrator.say(`${number} ${how} in ServiceNow by you`, approved ?? pushed.at);
  }
  if (pushed) {
    narrator.say(
      `ServiceNow business rule pushed the update → POST /hooks/servicenow (signed): approval=${String(pushed.data.approval)}, state=${STATE_LABELS[String(pushed.data.state)] ?? ''}`,
      pushed.at,
    );
  }
  if (decision !== 'released') {
    narrator.say(`gate ${paint.red(decision)}: ${String(decided.data.reason)}`, decided.at);
    return { ...outcome, gate: decision };
  }
  const implementing = observer.seen().find((e) => isChange(e) && e.data.state === '-1');
  if (implementing) {
    narrator.say(
      `gate moved ${number} to ${paint.bold('Implement')} (all rules pass: approved, inside its planned window)`,
      implementing.at,
    );
  }
  const call = await stack.ci.waitFor(
    (c) => c.path.includes(`/runs/${d.runId}/`) && c.effect === 'released',
    timeoutMs,
  );
  const callAt = call.at - performance.timeOrigin;
  const approvalToReleaseMs =
    approved === undefined ? undefined : Math.max(0, Math.round(callAt - approved));
  const gateLatencyMs =
    typeof decided.data.latencyMs === 'number' ? Math.round(decided.data.latencyMs) : undefined;
  narrator.say(
    `GitHub (CI emulator) received the release: ${call.method} ${call.path} {"state":"approved"} → ${call.status}`,
    callAt,
  );
  narrator.say(
    `${paint.green('released')} ${paint.bold(`${approvalToReleaseMs ?? '?'} ms`)} after the approval` +
      (gateLatencyMs !== undefined
        ? paint.dim(`  (gate: ${gateLatencyMs} ms from the Implement update to GitHub's answer)`)
        : ''),
    decided.at,
  );
  return {
    ...outcome,
    gate: 'released',
    ...(approvalToReleaseMs !== undefined ? { approvalToReleaseMs } : {}),
    ...(gateLatencyMs !== undefined ? { gateLatencyMs } : {}),
  };
}
