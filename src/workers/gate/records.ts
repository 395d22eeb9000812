import { createHash } from 'node:crypto';
import { auditRecord } from '../../audit/auditor.js';
import { toRecord } from '../../bus/cloudevents.js';
import type { BusRecord } from '../../bus/port.js';
import type { Config } from '../../config/schema.js';
import { buildEvent } from '../../events/build.js';
import type { CrState, Effect } from '../../gate/machine.js';

/**
 * The records a gate decision and a CR leaving Implement publish: the event on
 * `changegate.changes` and its audit entry. Ids are the decision's, so a decision published
 * again after a crash is one event and one ledger entry downstream.
 *
 * @module
 */

type Topics = Config['kafka']['topics'];

export function decisionRecords(
  topics: Topics,
  state: CrState,
  effect: Extract<Effect, { kind: 'decided' }>,
  now: number,
): BusRecord[] {
  const entry = state.gates[effect.gateId]!;
  const data = {
    gateId: effect.gateId,
    changeNumber: state.number,
    changeSysId: entry.gate.changeSysId,
    correlationId: entry.gate.correlationId,
    outcome: effect.outcome,
    reason: effect.reason,
    decidedAt: new Date(now).toISOString(),
    waitedMs: Math.max(0, now - Date.parse(entry.gate.registeredAt)),
    ...(entry.triggeredAt !== undefined ? { latencyMs: Math.max(0, now - entry.triggeredAt) } : {}),
    ...(effect.outcome === 'released' && state.approvedBy ? { approvedBy: state.approvedBy } : {}),
    callback: {
      status: effect.callback,
      ...(effect.httpStatus !== undefined ? { httpStatus: effect.httpStatus } : {}),
      ...(effect.error !== undefined ? { error: effect.error } : {}),
    },
  };
  const event = buildEvent(
    {
      type: `dev.changegate.gate.${effect.outcome}`,
      subject: state.number,
      key: state.number,
      data,
    },
    {
      id: `${effect.gateId}:${effect.outcome}`,
      source: '/changegate/worker/gate',
      time: new Date(now),
    },
  );
  // A gate decided before any CR was linked has no CR to report a decision on: its audit entry
  // (keyed by the correlation id) is the record, as for the change worker's own refusal.
  return [
    ...(entry.gate.changeNumber ? [toRecord(topics.changes, event)] : []),
    auditRecord(topics.audit, {
      id: `${effect.gateId}:${effect.outcome}`,
      key: state.number,
      actor: 'changegate/gate',
      action: `gate.${effect.outcome}`,
      reason: effect.reason,
      correlationId: entry.gate.correlationId,
      detail: {
        gateId: effect.gateId,
        callback: data.callback,
        waitedMs: data.waitedMs,
        ...(data.approvedBy ? { approvedBy: data.approvedBy } : {}),
      },
    }),
  ];
}

/**
 * The audit entry of a gate held by separation of duties. Its id names the gate and the reason,
 * so a replayed hold is one ledger entry and a hold for another reason is a second.
 */
export function heldRecords(
  topics: Topics,
  state: CrState,
  effect: Extract<Effect, { kind: 'held' }>,
): BusRecord[] {
  const entry = state.gates[effect.gateId]!;
  const digest = createHash('sha256').update(effect.reason).digest('hex').slice(0, 16);
  return [
    auditRecord(topics.audit, {
      id: `${effect.gateId}:held:${digest}`,
      key: state.number,
      actor: 'changegate/gate',
      action: 'gate.held',
      reason: effect.reason,
      correlationId: entry.gate.correlationId,
      detail: {
        gateId: effect.gateId,
        ...(state.approvedBy ? { approvedBy: state.approvedBy } : {}),
      },
    }),
  ];
}

export function leftImplementRecords(
  topics: Topics,
  state: CrState,
  effect: Extract<Effect, { kind: 'left-implement' }>,
  now: number,
): BusRecord[] {
  const correlationId = Object.values(state.gates)[0]?.gate.correlationId ?? state.number;
  const event = buildEvent(
    {
      type: 'dev.changegate.change.left-implement',
      subject: state.number,
      key: state.number,
      data: {
        changeNumber: state.number,
        changeSysId: effect.sysId,
        correlationId,
        action: 'left-implement',
        detail: `state ${effect.state}`,
      },
    },
    {
      id: `${state.number}:left-implement:${state.change?.modCount ?? now}`,
      source: '/changegate/worker/gate',
      time: new Date(now),
    },
  );
  return [
    toRecord(topics.changes, event),
    auditRecord(topics.audit, {
      id: event.id,
      key: state.number,
      actor: 'changegate/gate',
      action: 'change.left-implement',
      reason: `state ${effect.state}`,
      correlationId,
    }),
  ];
}
