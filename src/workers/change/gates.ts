import { createHash } from 'node:crypto';
import type { ChangePolicy } from '../../config/changes.js';
import type { NormalizedEvent } from '../../events/build.js';
import type { DeploymentData } from '../../events/cicd.js';
import type { GateDecision } from '../../events/gate.js';
import type { SnRecord } from '../../servicenow/index.js';

/**
 * The gate events the change worker hands the gate worker: a gate registered on its CR, or
 * decided at the request. Pure.
 *
 * @module
 */

/**
 * A gate decided at the request, for the gate worker to call back (it alone calls CI systems,
 * so a gate is called back once however it was decided). Keyed by the CR it names, if any,
 * else by the correlation id. Nothing when the deployment does not wait at a gate.
 */
export function predecided(
  d: DeploymentData,
  decided: GateDecision,
  at: number,
  cr?: SnRecord,
  policy?: ChangePolicy,
): NormalizedEvent[] {
  if (!d.callback) return [];
  const key = cr?.number ?? d.correlationId;
  return [
    {
      type: 'dev.changegate.gate.predecided',
      subject: key,
      key,
      data: {
        ...gateOf(d, at, policy),
        ...(cr?.number ? { changeNumber: cr.number } : {}),
        ...(cr?.sys_id ? { changeSysId: cr.sys_id } : {}),
        decided,
      },
    },
  ];
}

/** What every gate of a deployment carries, registered or decided at the request. */
export function gateOf(d: DeploymentData, at: number, policy?: ChangePolicy) {
  return {
    gateId: gateIdOf(d),
    provider: d.provider,
    project: d.project,
    environment: d.environment,
    deploymentId: d.deploymentId,
    correlationId: d.correlationId,
    callback: d.callback!,
    ...(d.run?.url ? { runUrl: d.run.url } : {}),
    policy: policy?.gate ?? 'default',
    registeredAt: new Date(at).toISOString(),
    people: {
      ...(d.actor ? { actor: { login: d.actor } } : {}),
      ...(d.commit.author ? { commitAuthor: d.commit.author } : {}),
      ...(d.commit.committer ? { committer: d.commit.committer } : {}),
      ...(d.pullRequestAuthor ? { pullRequestAuthor: d.pullRequestAuthor } : {}),
    },
  };
}

/**
 * One gate per deployment attempt waiting at one callback target: a redelivered request maps to
 * the same gate (ignored), a re-run (next attempt) gets a new one.
 */
export function gateIdOf(d: DeploymentData): string {
  const callback = d.callback
    ? `${d.callback.kind}|${d.callback.url}|${JSON.stringify(d.callback.params)}`
    : '';
  const digest = createHash('sha256')
    .update(`${d.correlationId}|${callback}|${d.run?.attempt ?? 1}`)
    .digest('hex')
    .slice(0, 16);
  return `gate-${digest}`;
}
