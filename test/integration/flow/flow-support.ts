import { randomUUID } from 'node:crypto';
import type { AuditEntry } from '../../../src/audit/auditor.js';
import type { SnRecord } from '../../../src/sandbox/servicenow/index.js';
import { signedRequest } from '../../fixtures/standard-webhook-request.js';
import { SECRETS, eventually, type Stack } from '../../support/stack.js';

/**
 * Helpers shared by the in-process flow tests: send changegate-format deliveries (Jenkins and
 * generic sources), and read what ServiceNow and the audit trail ended up with.
 */

export type DeploymentType = 'requested' | 'started' | 'succeeded' | 'failed';

/** POST a signed changegate-format delivery to `/hooks/<route>`; resolves to the HTTP status. */
export async function sendChangegate(
  stack: Stack,
  route: 'jenkins' | `generic/${string}`,
  type: DeploymentType,
  data: Record<string, unknown>,
  deliveryId = `msg_${randomUUID()}`,
): Promise<number> {
  const body = { type: `deployment.${type}`, timestamp: new Date().toISOString(), data };
  const request = signedRequest(body, { secret: SECRETS.whsec, id: deliveryId, at: new Date() });
  const res = await fetch(`${stack.receiver.url}/hooks/${route}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** POST a raw provider request (GitHub, GitLab, Azure DevOps builders) to `/hooks/<route>`. */
export async function post(
  stack: Stack,
  route: string,
  request: { headers: Headers; body: Uint8Array },
): Promise<Response> {
  return fetch(`${stack.receiver.url}/hooks/${route}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

/** Every change request whose correlation_id is `correlationId`. */
export function changesOf(stack: Stack, correlationId: string): SnRecord[] {
  return stack.servicenow.admin
    .records('change_request')
    .filter((r) => r.correlation_id === correlationId);
}

/** The one CR of a correlation id, once it exists and `ready` holds for it. */
export function theChange(
  stack: Stack,
  correlationId: string,
  ready: (cr: SnRecord) => boolean = () => true,
): Promise<SnRecord> {
  return eventually(() => changesOf(stack, correlationId).find(ready));
}

/** A change request by number, as stored now. */
export function changeByNumber(stack: Stack, number: string): SnRecord | undefined {
  return stack.servicenow.admin.records('change_request').find((r) => r.number === number);
}

/** The work notes written to one record, oldest first. */
export function workNotes(stack: Stack, sysId: string): string[] {
  return stack.servicenow.admin
    .records('sys_journal_field')
    .filter((j) => j.element_id === sysId && j.element === 'work_notes')
    .map((j) => j.value ?? '');
}

/** Every line of the audit trail so far. */
export async function auditTrail(stack: Stack): Promise<AuditEntry[]> {
  const lines: AuditEntry[] = [];
  await stack.bus.readToEnd(stack.config.kafka.topics.audit, (record) => {
    if (record.value) lines.push(JSON.parse(record.value.toString('utf8')) as AuditEntry);
  });
  return lines;
}

/** Resolves with the audit line matching `predicate` once it was written. */
export function audited(stack: Stack, predicate: (a: AuditEntry) => boolean): Promise<AuditEntry> {
  return eventually(async () => (await auditTrail(stack)).find(predicate));
}

/** CI callbacks that changed a gate (`released` / `rejected`) on `path`. */
export function decisions(stack: Stack, path: string) {
  return stack.ci
    .received()
    .filter((c) => c.path.startsWith(path) && (c.effect === 'released' || c.effect === 'rejected'));
}

/** Changegate-format deployment data for a generic or Jenkins source. */
export function deploymentData(
  project: string,
  deploymentId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    project,
    environment: 'production',
    deploymentId,
    run: { id: `${deploymentId}-run`, url: `https://ci.acme.example/runs/${deploymentId}` },
    commit: { sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', ref: 'refs/heads/main' },
    actor: 'jdoe',
    ...extra,
  };
}

/**
 * Resolves once the sandbox delivered every business-rule message of the writes made so far.
 * Admin writes schedule their message on `setImmediate`, which `outbound.idle()` alone does not
 * see yet, hence the extra turn.
 */
export async function outboundSettled(stack: Stack): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await stack.servicenow.admin.outbound.idle();
}
