import type { Bus } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import type { CloudEvent } from '../events/envelope.js';
import {
  eventRouter,
  type HandlerContext,
  type WorkerDefinition,
} from '../workers/runtime/index.js';
import { auditRecord, type AuditEntry } from './auditor.js';

export interface AuditObserverOptions {
  config: Pick<Config, 'kafka'>;
  bus: Pick<Bus, 'publish'>;
  /** CRs whose last state/approval is remembered (to audit changes, not every update). */
  maxRemembered?: number;
}

const DEPLOYMENTS = [
  'dev.changegate.deployment.requested',
  'dev.changegate.deployment.started',
  'dev.changegate.deployment.succeeded',
  'dev.changegate.deployment.failed',
] as const;
const DEPLOYMENT = 'dev.changegate.deployment.';

/**
 * Audit lines for what changegate *saw* rather than decided: a deployment event received from a
 * CI system, and an approval or state change ServiceNow pushed. No worker writes these (the
 * receiver stays stateless and the gate worker audits decisions only), so this observer derives
 * them from `changegate.cicd.events` and `changegate.changes` and writes them to
 * `changegate.audit` like any writer: the ledger worker stays the only writer of each chain.
 *
 * Ids derive from the event id, so a redelivered event gives the same id and the ledger keeps the
 * line once. State/approval are remembered per CR in memory (bounded): after a restart the first
 * update of a CR is audited once more, which is a repeat, never a gap.
 */
export function auditObserver({
  config,
  bus,
  maxRemembered = 10_000,
}: AuditObserverOptions): WorkerDefinition {
  const topics = config.kafka.topics;
  const seen = new Map<string, { state?: string | undefined; approval?: string | undefined }>();

  const write = (entry: AuditEntry, event: CloudEvent) => {
    const at = event.time ? new Date(event.time) : new Date();
    return bus.publish([
      auditRecord(topics.audit, entry, Number.isNaN(at.getTime()) ? new Date() : at),
    ]);
  };

  return {
    name: 'audit-observer',
    topics: [topics.cicd, topics.changes],
    // Not ours to judge: the change worker dead-letters a deployment it cannot read.
    events: eventRouter<HandlerContext>({ invalid: 'skip' })
      .on(DEPLOYMENTS, async (event) => {
        const d = event.data;
        const what = event.type.slice(DEPLOYMENT.length);
        await write(
          {
            id: `observed:${event.id}`,
            key: d.correlationId,
            actor: 'changegate/receiver',
            action: `deployment.${what}.received`,
            correlationId: d.correlationId,
            reason: `deployment ${what} of ${d.project} to ${d.environment} received from ${d.provider}${d.actor ? ` (by ${d.actor})` : ''}`,
            detail: {
              eventId: event.id,
              source: event.source,
              provider: d.provider,
              project: d.project,
              environment: d.environment,
              deploymentId: d.deploymentId,
              ...(d.run?.url ? { runUrl: d.run.url } : {}),
              ...(d.commit.sha ? { commit: d.commit.sha } : {}),
              ...(d.actor ? { by: d.actor } : {}),
              ...(d.changeNumber ? { changeNumber: d.changeNumber } : {}),
              gate: Boolean(d.callback),
            },
          },
          event,
        );
      })
      .on('dev.changegate.change.updated', async (event) => {
        const c = event.data;
        const before = seen.get(c.number);
        const approvalChanged = c.approval !== undefined && c.approval !== before?.approval;
        const stateChanged = c.state !== undefined && c.state !== before?.state;
        seen.delete(c.number);
        seen.set(c.number, {
          state: c.state ?? before?.state,
          approval: c.approval ?? before?.approval,
        });
        // Map iteration is insertion order: the first key is the CR updated longest ago.
        if (seen.size > maxRemembered) seen.delete(seen.keys().next().value!);
        if (!approvalChanged && !stateChanged) return;
        await write(
          {
            id: `observed:${event.id}`,
            key: c.number,
            actor: 'servicenow',
            action: approvalChanged ? 'approval.seen' : 'change.state-seen',
            ...(c.correlationId ? { correlationId: c.correlationId } : {}),
            reason: approvalChanged
              ? `ServiceNow reports approval ${c.approval} (state ${c.state ?? 'unknown'})`
              : `ServiceNow reports state ${c.state}`,
            detail: {
              eventId: event.id,
              sysId: c.sysId,
              changeNumber: c.number,
              ...(c.state !== undefined ? { state: c.state } : {}),
              ...(c.approval !== undefined ? { approval: c.approval } : {}),
              ...(c.updatedAt ? { updatedAt: c.updatedAt } : {}),
              deliveryId: c.deliveryId,
            },
          },
          event,
        );
      }),
  };
}
