import { randomUUID } from 'node:crypto';
import { toRecord } from '../../bus/cloudevents.js';
import type { Bus } from '../../bus/port.js';
import { GatePolicySchema, type GatePolicy } from '../../config/changes.js';
import type { Config } from '../../config/schema.js';
import { coerceError } from '../../errors.js';
import { buildEvent } from '../../events/build.js';
import type { CloudEvent } from '../../events/envelope.js';
import type { ChangeSnapshot } from '../../events/gate.js';
import type { ChangeUpdatedData } from '../../events/servicenow.js';
import {
  nextWake,
  openGates,
  step,
  type CrState,
  type Effect,
  type Input,
  type StepContext,
} from '../../gate/machine.js';
import { CrStateSchema } from '../../gate/state.js';
import type { Logger } from '../../log.js';
import { callBack } from './callback.js';
import {
  GATE_CHANGELOG_TOPIC,
  LEGACY_GATE_STATE_TOPIC,
  migrateLegacyGateState,
} from './legacy-state.js';
import { decisionRecords, heldRecords, leftImplementRecords } from './records.js';
import type { GateCallbacks, GateServiceNow } from './ports.js';
import { eventRouter, type WorkerRuntimeOptions } from '../runtime/index.js';
import {
  createStatefulProcessor,
  FencedError,
  routeEvents,
  type KeyedContext,
  type Outcome,
  type StatefulRouter,
  type TaskContext,
} from '../stateful/index.js';

export interface GateWorkerOptions {
  bus: Bus;
  config: Pick<Config, 'kafka' | 'gates'>;
  servicenow: GateServiceNow;
  callbacks: GateCallbacks;
  log: Logger;
  clock?: () => number;
  groupId?: string;
  /** States with no open gate are forgotten after this long. */
  retainMs?: number;
  onDecision?: (decision: { outcome: string; latencyMs?: number; waitedMs: number }) => void;
  /** Retries and the DLQ's outcome metric, as for every worker. */
  runtime?: Pick<WorkerRuntimeOptions, 'retry' | 'onOutcome'>;
}

export interface GateWorker {
  /** The CR states of this replica's partitions. */
  states(): CrState[];
  /** The changes-topic partitions this replica owns and has restored. */
  partitions(): number[];
  /**
   * Re-read the CRs of this replica's open gates once and feed them in as `change.updated`
   * events (`changegate reconcile`); resolves with how many were published.
   */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

/** The one timer of a CR: the machine's next wake-up (nextWake), or its state's retention. */
const WAKE = 'wake';

/**
 * The gate worker: one state machine per CR (src/gate/machine.ts) fed by the ordered
 * `changegate.changes` stream, on the state kit (src/workers/stateful): each partition of the
 * stream is a task whose CR states and timers live in the gate changelog (`topics.gateState`),
 * co-partitioned with the stream, so the worker runs as N replicas (N ≤ partitions) and a
 * rebalance or a kill -9 moves states and timers with their partitions.
 *
 * Invariants:
 * - Inputs for one CR (stream records, its timer) are applied one at a time (the task's chain).
 * - A decision is written to the changelog (`deciding`) before the CI system is called, and the
 *   decision's events are published before the state that says it was made; a crash repeats a
 *   callback (the CI side answers "already decided"), never loses one. Memory changes only once
 *   the changelog took the state, so a failed write leaves the input to decide again.
 * - The stream offset is committed only after the record's effects ran (the bus contract).
 *
 * Timers exist only for time the machine waits on (window start, blackout end, expiry, the next
 * callback round, retention); nothing here polls ServiceNow.
 */
export async function startGateWorker(options: GateWorkerOptions): Promise<GateWorker> {
  const { bus, config, servicenow, callbacks, log: parent, clock = Date.now } = options;
  const log = parent.child({ worker: 'gate' });
  const topics = config.kafka.topics;
  const retainMs = options.retainMs ?? 7 * 24 * 3600_000;
  const { onOutcome, retry } = options.runtime ?? {};

  const policyOf = (name: string): GatePolicy =>
    config.gates.policies[name] ?? config.gates.policies.default ?? GatePolicySchema.parse({});
  const stepContext = (notBefore = 0): StepContext => ({
    now: Math.max(clock(), notBefore),
    policyOf,
    callbackRetry: config.gates.callbackRetry,
    random: Math.random,
  });

  /**
   * Apply inputs to one CR and run their effects; the answers of effects (approvers, callbacks,
   * a failed move) feed back as inputs. Returns the state to write with its timer.
   */
  async function drive(
    initial: CrState | undefined,
    inputs: Input[],
    ctx: TaskContext<CrState>,
    notBefore?: number,
  ): Promise<Outcome<CrState>> {
    let state = initial;
    const queue = [...inputs];
    while (queue.length > 0) {
      const input = queue.shift()!;
      const stepped = step(state, input, stepContext(notBefore));
      const effects: Effect[] = stepped.effects;
      state = stepped.state;
      const current = state;
      const records = effects.flatMap((effect) =>
        effect.kind === 'decided'
          ? decisionRecords(topics, current, effect, clock())
          : effect.kind === 'left-implement'
            ? leftImplementRecords(topics, current, effect, clock())
            : effect.kind === 'held'
              ? heldRecords(topics, current, effect)
              : [],
      );
      // Published before the state that says they were (ctx.publish is fenced).
      if (records.length > 0) await ctx.publish(records);
      let saved = false;
      for (const effect of effects) {
        if (effect.kind === 'decided') notifyDecided(current, effect);
        else if (effect.kind === 'left-implement') {
          await bestEffort(() =>
            servicenow.addWorkNote(
              effect.sysId,
              `changegate: ${effect.number} left Implement (now state ${effect.state}) while a deployment it released was running.`,
            ),
          );
        } else if (effect.kind === 'held') {
          // The pipeline and the CR say why nothing happens; the audit entry is published above.
          const entry = current.gates[effect.gateId];
          if (entry) {
            await bestEffort(async () => {
              await callbacks.comment?.(entry.gate.callback, `changegate: ${effect.reason}`);
            });
            await bestEffort(() =>
              servicenow.addWorkNote(
                entry.gate.change?.sysId ?? current.change?.sysId ?? '',
                `changegate: gate held for ${entry.gate.project} → ${entry.gate.environment} (${effect.reason}).`,
              ),
            );
          }
        } else if (effect.kind === 'read-approvers') {
          queue.push(await readApprovers(effect.sysId));
        } else if (effect.kind === 'advance') {
          try {
            await servicenow.moveToImplement(effect.sysId, current.change?.state);
            ctx.log.info({ number: current.number }, 'moved CR to Implement');
          } catch (err) {
            const error = coerceError(err).message;
            ctx.log.warn({ number: current.number, err: error }, 'could not move CR to Implement');
            queue.push({ kind: 'advance-failed', error });
          }
        } else if (effect.kind === 'callback') {
          // The decision is in the changelog before the CI system hears of it.
          if (!saved) await ctx.save(current);
          saved = true;
          if (!ctx.owned()) throw new FencedError('[changegate/gate] partition lost; not calling');
          queue.push(
            await callBack(
              callbacks,
              ctx.log,
              current,
              effect.gateId,
              effect.decision,
              effect.reason,
            ),
          );
        }
      }
    }
    if (!state) return {};
    return { state, timers: { [WAKE]: wakeOf(state) } };
  }

  /** The machine's next wake-up; with nothing open, when the state is forgotten. */
  const wakeOf = (state: CrState): number =>
    nextWake(state) ?? Math.max(state.touchedAt + retainMs, clock());

  /**
   * Who approved the CR, read once before its first release (the `read-approvers` effect); the
   * answer goes back to the machine, which checks separation of duties.
   */
  const readApprovers = async (sysId: string): Promise<Input> => {
    try {
      return { kind: 'approvers', approvedBy: await servicenow.getApprovers(sysId) };
    } catch (err) {
      const error = coerceError(err).message;
      log.warn({ sysId, err: error }, 'could not read the approvers (sysapproval_approver)');
      return { kind: 'approvers', error };
    }
  };

  const notifyDecided = (state: CrState, effect: Extract<Effect, { kind: 'decided' }>) => {
    const entry = state.gates[effect.gateId]!;
    const now = clock();
    log.info(
      {
        number: state.number,
        gateId: effect.gateId,
        outcome: effect.outcome,
        callback: effect.callback,
      },
      effect.reason,
    );
    options.onDecision?.({
      outcome: effect.outcome,
      waitedMs: Math.max(0, now - Date.parse(entry.gate.registeredAt)),
      ...(entry.triggeredAt !== undefined ? { latencyMs: now - entry.triggeredAt } : {}),
    });
    const sysId = entry.gate.change?.sysId ?? entry.gate.changeSysId ?? state.change?.sysId;
    // A gate decided before any CR was linked has no CR to note it on.
    if (!sysId) return;
    void bestEffort(() =>
      servicenow.addWorkNote(
        sysId,
        `changegate: gate ${effect.outcome} for ${entry.gate.project} → ${entry.gate.environment} (${effect.reason}).${effect.callback === 'failed' ? ` The CI system was NOT told: ${effect.error ?? 'callback failed'}.` : ''}${entry.gate.runUrl ? ` Run: ${entry.gate.runUrl}` : ''}`,
      ),
    );
  };

  const bestEffort = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log.warn({ err: coerceError(err).message }, 'best-effort note failed (not retried)');
    }
  };

  await bus.ensureTopics([
    { topic: topics.gateState, partitions: config.kafka.partitions, cleanup: 'compact' },
  ]);
  // Only between the default names: a renamed topic set is an installation of its own.
  if (topics.gateState === GATE_CHANGELOG_TOPIC) {
    await migrateLegacyGateState({
      bus,
      from: LEGACY_GATE_STATE_TOPIC,
      to: topics.gateState,
      log,
      clock,
    });
  }
  const events: StatefulRouter<CrState> = eventRouter<KeyedContext<CrState>, Outcome<CrState>>()
    .on('dev.changegate.gate.registered', async ({ data: gate }, ctx) => {
      let change = gate.change;
      if (!change && !ctx.state?.change) change = await servicenow.getChange(gate.changeNumber);
      return drive(
        ctx.state,
        [{ kind: 'registered', gate: change ? { ...gate, change } : gate }],
        ctx,
      );
    })
    .on('dev.changegate.gate.predecided', ({ data: gate }, ctx) =>
      drive(ctx.state, [{ kind: 'predecided', gate }], ctx),
    )
    .on('dev.changegate.change.updated', ({ data }, ctx) =>
      drive(ctx.state, [{ kind: 'change', change: snapshotOf(data) }], ctx),
    );

  const processor = await createStatefulProcessor({
    bus,
    name: 'gate',
    groupId: options.groupId ?? 'changegate-gate',
    input: topics.changes,
    changelog: topics.gateState,
    partitions: config.kafka.partitions,
    schema: CrStateSchema,
    dlqTopic: topics.dlq,
    log,
    clock,
    ...(retry ? { retry } : {}),
    ...(onOutcome ? { onOutcome: (o, ms) => onOutcome('gate', o, ms) } : {}),
    ...routeEvents(events),
    async onTimer(_key, state, _timer, ctx) {
      if (openGates(state).length === 0 && clock() - state.touchedAt >= retainMs) {
        return { state: null };
      }
      // A timer may fire a moment before its due time by the wall clock: the tick happens at
      // its due time, or the machine would wait for that same instant again (and the kit would
      // call it again only after its overdue grace).
      return drive(state, [{ kind: 'tick' }], ctx, nextWake(state));
    },
  });

  return {
    states: () => processor.entries().map(([, state]) => state),
    partitions: () => processor.partitions(),
    async reconcile() {
      const records = [];
      for (const [, state] of processor.entries()) {
        if (openGates(state).length === 0) continue;
        const change = await servicenow.getChange(state.number);
        if (change) records.push(toRecord(topics.changes, reconcileEvent(change)));
      }
      // Through the stream, so the CR's task applies it in order with everything else.
      if (records.length > 0) await bus.publish(records);
      return records.length;
    },
    close: () => processor.close(),
  };
}

/** A CR as read from ServiceNow, as the `change.updated` event the business rule would send. */
function reconcileEvent(change: ChangeSnapshot): CloudEvent {
  return buildEvent(
    {
      type: 'dev.changegate.change.updated',
      subject: change.number,
      key: change.number,
      data: {
        sysId: change.sysId,
        number: change.number,
        ...(change.state !== undefined ? { state: change.state } : {}),
        ...(change.approval !== undefined ? { approval: change.approval } : {}),
        ...(change.startDate !== undefined ? { startDate: change.startDate } : {}),
        ...(change.endDate !== undefined ? { endDate: change.endDate } : {}),
        ...(change.updatedAt !== undefined ? { updatedAt: change.updatedAt } : {}),
        fields: change.fields,
        deliveryId: `reconcile-${randomUUID()}`,
        raw: { truncated: false, bytes: 0, payload: null },
      },
    },
    { id: `reconcile-${randomUUID()}`, source: '/changegate/worker/gate', time: new Date() },
  );
}

/** The business rule's message, as the snapshot the rules read. */
export function snapshotOf(data: ChangeUpdatedData): ChangeSnapshot {
  const modCount = data.fields.sys_mod_count;
  return {
    sysId: data.sysId,
    number: data.number,
    ...(data.state !== undefined ? { state: data.state } : {}),
    ...(data.approval !== undefined ? { approval: data.approval } : {}),
    ...(data.startDate !== undefined ? { startDate: data.startDate } : {}),
    ...(data.endDate !== undefined ? { endDate: data.endDate } : {}),
    fields: data.fields,
    ...(modCount !== undefined && /^\d+$/.test(modCount) ? { modCount: Number(modCount) } : {}),
    ...(data.updatedAt !== undefined ? { updatedAt: data.updatedAt } : {}),
  };
}
