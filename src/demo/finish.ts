import { DemoError } from './errors.js';
import { deploymentStatus, githubDelivery } from './github.js';
import {
  changeRecord,
  expectStatus,
  stateLabel,
  type DeploymentOutcome,
  type Scene,
} from './scene.js';

/**
 * The run deploys: `deployment_status` in_progress, then success or failure; wait until the
 * change worker closed the CR (and opened a follow-up on failure).
 */
export async function finishDeployment(
  scene: Scene,
  outcome: DeploymentOutcome,
  result: 'success' | 'failure',
): Promise<DeploymentOutcome> {
  const { stack, narrator, observer, timeoutMs } = scene;
  const { paint } = narrator;
  const d = outcome.deployment;
  for (const s of ['in_progress', result] as const) {
    const delivery = githubDelivery(
      'deployment_status',
      deploymentStatus(d, s),
      stack.secrets.github,
    );
    const at = await expectStatus(scene, `deployment_status ${s}`, delivery, 202);
    const shown = s === 'failure' ? paint.red(s) : s === 'success' ? paint.green(s) : s;
    narrator.say(
      `GitHub → POST /hooks/github  deployment_status ${shown}  run ${d.runId}  ${paint.green('202')}`,
      at,
    );
  }
  const closed = await observer.waitFor(
    `${outcome.number} to be closed`,
    (e) => e.type === 'dev.changegate.change.closed' && e.data.changeNumber === outcome.number,
    timeoutMs,
  );
  const cr = changeRecord(stack, outcome.number);
  const code =
    cr.close_code === 'successful' ? paint.green(cr.close_code) : paint.red(cr.close_code ?? '');
  narrator.say(
    `change worker closed ${paint.bold(outcome.number)}: state=${stateLabel(cr)}  close_code=${code}`,
    closed.at,
  );
  if (result === 'success') {
    const ci = await inSandbox(
      scene,
      'the CMDB to register acme/payments',
      'cmdb_ci_appl',
      (r) => r.name === `${d.owner}/${d.repo}`,
    );
    narrator.say(
      `cmdb worker registered ${paint.bold(ci.name ?? '')} in the CMDB (cmdb_ci_appl, version ${ci.version ?? '?'}) via identifyreconcile`,
    );
    return outcome;
  }
  const incident = await inSandbox(
    scene,
    'an incident for the failed deployment',
    'incident',
    (r) => (r.correlation_id ?? '').startsWith(`github/${d.owner}/${d.repo}/`),
  );
  narrator.say(
    `incident worker filed ${paint.bold(incident.number ?? '')}: "${incident.short_description}" (caused_by ${paint.bold(outcome.number)})`,
  );
  const follow = await observer.waitFor(
    `follow-up change request for ${outcome.number}`,
    (e) =>
      e.type === 'dev.changegate.change.created' &&
      e.data.correlationId === `${outcome.correlationId}/follow-up`,
    timeoutMs,
  );
  const followUp = String(follow.data.changeNumber);
  const followCr = changeRecord(stack, followUp);
  narrator.say(
    `and opened follow-up ${paint.bold(followUp)} (${stateLabel(followCr)}): "${followCr.short_description}"`,
    follow.at,
  );
  return { ...outcome, followUp };
}

/** Wait until a worker's record shows up in the ServiceNow sandbox (what a person would check). */
async function inSandbox(
  scene: Scene,
  what: string,
  table: string,
  match: (record: Record<string, string>) => boolean,
): Promise<Record<string, string>> {
  const deadline = Date.now() + scene.timeoutMs;
  for (;;) {
    const found = scene.stack.servicenow.admin.records(table).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new DemoError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
