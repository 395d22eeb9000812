import { fromRecord, toRecord } from '../bus/cloudevents.js';
import type { Bus, BusRecord, ConsumedRecord, Subscription } from '../bus/port.js';
import { auditRecord } from '../audit/auditor.js';
import { GatePolicySchema, type GatePolicy } from '../config/changes.js';
import type { Config } from '../config/schema.js';
import { UpstreamError, coerceError } from '../errors.js';
import { buildEvent } from '../events/build.js';
import { GateRegisteredDataSchema, type ChangeSnapshot } from '../events/gate.js';
import { ChangeUpdatedDataSchema, type ChangeUpdatedData } from '../events/servicenow.js';
import { openGates, step, type CrState, type Effect, type Input } from '../gate/machine.js';
import type { Logger } from '../log.js';
import type { GateCallbacks, GateServiceNow } from './ports.js';

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
}

export interface GateWorker {
  states(): CrState[];
  /** Re-read the CRs of open gates once and apply them (`changegate reconcile`). */
  reconcile(): Promise<number>;
  close(): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const CALLBACK_ATTEMPTS = 4;
const RETRY_LATER_MS = 30_000;
const MINUTE = 60_000;
const RESUME_CONCURRENCY = 256;

/**
 * The gate worker: one state machine per CR (src/gate/machine.ts) fed by the ordered
 * `changegate.changes` stream, its state in the compacted `changegate.gate-state` topic.
 *
 * Invariants:
 * - Inputs for one CR (stream records, timers) are applied one at a time (a lock per CR).
 * - State is persisted before any effect runs, so a crash repeats an effect, never loses one;
 *   callbacks are the only effect that matters twice, and the CI side answers a repeat with
 *   "already decided".
 * - The stream offset is committed only after the record's effects ran (the bus contract).
 *
 * Timers exist only for time the rules wait on (window start, blackout end, expiry); nothing
 * here polls ServiceNow. Run one replica: timers are per process, not per partition.
 */
export async function startGateWorker(options: GateWorkerOptions): Promise<GateWorker> {
  const { bus, config, servicenow, callbacks, log: parent, clock = Date.now } = options;
  const log = parent.child({ worker: 'gate' });
  const topics = config.kafka.topics;
  const retainMs = options.retainMs ?? 7 * 24 * 3600_000;
  const states = new Map<string, CrState>();
  const locks = new Map<string, Promise<void>>();
  const timers = new Map<string, { at: number; handle: NodeJS.Timeout }>();
  const retries = new Map<string, NodeJS.Timeout>(); // gateId → next callback round
  let closed = false;
  const retry = config.gates.callbackRetry;

  const policyOf = (name: string): GatePolicy =>
    config.gates.policies[name] ?? config.gates.policies.default ?? GatePolicySchema.parse({});

  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  };

  const persist = (state: CrState): BusRecord => ({
    topic: topics.gateState,
    key: state.number,
    value: Buffer.from(JSON.stringify(state)),
    headers: { 'content-type': 'application/json' },
  });

  const arm = (number: string, at: number) => {
    const existing = timers.get(number);
    if (existing && existing.at <= at && existing.at > clock()) return;
    if (existing) clearTimeout(existing.handle);
    const delay = Math.min(Math.max(0, at - clock()), MAX_TIMER_MS);
    const handle = setTimeout(() => {
      timers.delete(number);
      if (!closed)
        void apply(number, [{ kind: 'tick' }]).catch((err: unknown) =>
          log.error({ err, number }, 'timer failed'),
        );
    }, delay);
    handle.unref?.();
    timers.set(number, { at, handle });
  };

  /** Apply inputs to one CR and run their effects; callback answers feed back as inputs. */
  const apply = (number: string, inputs: Input[]) =>
    withLock(number, async () => {
      // Memory changes only after the changelog took the state; a failure part-way puts memory
      // back to where this input started, so the redelivered input decides again.
      const start = states.get(number);
      try {
        await applyInputs(number, inputs);
      } catch (err) {
        if (start) states.set(number, start);
        else states.delete(number);
        throw err;
      }
    });

  const applyInputs = async (number: string, inputs: Input[]) => {
    const queue = [...inputs];
    while (queue.length > 0) {
      const input = queue.shift()!;
      const { state, effects } = step(states.get(number), input, { now: clock(), policyOf });
      const records: BusRecord[] = [persist(state)];
      const later: Effect[] = [];
      for (const effect of effects) {
        if (effect.kind === 'decided') records.push(...decisionRecords(state, effect));
        else if (effect.kind === 'left-implement')
          records.push(...leftImplementRecords(state, effect));
        else later.push(effect);
      }
      await bus.publish(records);
      states.set(number, state);
      for (const effect of effects) {
        if (effect.kind === 'decided') notifyDecided(state, effect);
        if (effect.kind === 'left-implement') {
          await bestEffort(() =>
            servicenow.addWorkNote(
              effect.sysId,
              `changegate: ${effect.number} left Implement (now state ${effect.state}) while a deployment it released was running.`,
            ),
          );
        }
      }
      for (const effect of later) {
        if (effect.kind === 'timer') arm(number, effect.at);
        else if (effect.kind === 'read-approvers') queue.push(await readApprovers(effect.sysId));
        else if (effect.kind === 'advance') {
          try {
            await servicenow.moveToImplement(effect.sysId, states.get(number)?.change?.state);
            log.info({ number }, 'moved CR to Implement');
          } catch (err) {
            log.warn(
              { number, err: coerceError(err).message },
              'could not move CR to Implement; retrying later',
            );
            const current = states.get(number);
            if (current) states.set(number, { ...current, advanceRequested: false });
            arm(number, clock() + RETRY_LATER_MS);
          }
        } else if (effect.kind === 'callback') {
          const answer = await callBack(state, effect.gateId, effect.decision, effect.reason);
          if (answer) queue.push(answer);
          else retryLater(number, effect.gateId, 1);
        }
      }
    }
  };

  /**
   * A callback that stayed unreachable is called again, with backoff (first delay doubling up to
   * the cap), until it answers: done, or a final error, which is how a provider's own limit ends
   * it (the Azure client fails for good once the check token has expired).
   */
  const retryLater = (number: string, gateId: string, round: number) => {
    if (closed) return;
    clearTimeout(retries.get(gateId));
    const base = Math.min(
      retry.firstDelaySeconds * 1000 * 2 ** (round - 1),
      retry.maxDelayMinutes * MINUTE,
    );
    const handle = setTimeout(
      () => {
        retries.delete(gateId);
        void retryCallback(number, gateId, round).catch((err: unknown) =>
          log.error({ err, number, gateId }, 'callback retry failed'),
        );
      },
      Math.min(base * (0.75 + Math.random() / 2), MAX_TIMER_MS),
    );
    handle.unref?.();
    retries.set(gateId, handle);
  };

  const retryCallback = async (number: string, gateId: string, round: number) => {
    const state = states.get(number);
    const entry = state?.gates[gateId];
    if (closed || !state || entry?.status !== 'deciding' || !entry.outcome) return;
    log.info({ number, gateId, round }, 'calling the CI system again');
    const decision = entry.outcome === 'released' ? 'approve' : 'reject';
    const answer = await callBack(state, gateId, decision, entry.reason);
    if (answer) await apply(number, [answer]);
    else retryLater(number, gateId, round + 1);
  };

  /**
   * Who approved the CR, read once before its first release (the `read-approvers` effect); the
   * answer goes back to the machine, which checks separation of duties and keeps the names for
   * the release event, the audit entry and later gates of the same approval.
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

  /** Call the CI system; undefined when it stayed unreachable (kept deciding, retried later). */
  const callBack = async (
    state: CrState,
    gateId: string,
    decision: 'approve' | 'reject',
    reason: string,
  ): Promise<Input | undefined> => {
    const entry = state.gates[gateId];
    if (!entry) return undefined;
    for (let attempt = 1; attempt <= CALLBACK_ATTEMPTS; attempt++) {
      try {
        const result = await callbacks.decide(entry.gate.callback, {
          outcome: decision,
          comment: `changegate: ${reason}`,
          changeNumber: state.number,
          gateId,
        });
        return {
          kind: 'callback-done',
          gateId,
          status: result.status,
          httpStatus: result.httpStatus,
        };
      } catch (err) {
        const error = coerceError(err);
        const retryable = error instanceof UpstreamError ? error.retryable : true;
        if (!retryable) {
          log.error({ gateId, err: error.message }, 'CI callback refused; gate closed as failed');
          return {
            kind: 'callback-done',
            gateId,
            status: 'failed',
            error: error.message,
            ...(error instanceof UpstreamError && error.upstreamStatus
              ? { httpStatus: error.upstreamStatus }
              : {}),
          };
        }
        log.warn(
          { gateId, attempt, err: error.message },
          `CI callback failed on attempt ${attempt} of ${CALLBACK_ATTEMPTS}`,
        );
        if (attempt < CALLBACK_ATTEMPTS) await sleep(Math.random() * 250 * 2 ** attempt);
      }
    }
    return undefined;
  };

  const decisionRecords = (
    state: CrState,
    effect: Extract<Effect, { kind: 'decided' }>,
  ): BusRecord[] => {
    const entry = state.gates[effect.gateId]!;
    const now = clock();
    const data = {
      gateId: effect.gateId,
      changeNumber: state.number,
      changeSysId: entry.gate.changeSysId,
      correlationId: entry.gate.correlationId,
      outcome: effect.outcome,
      reason: effect.reason,
      decidedAt: new Date(now).toISOString(),
      waitedMs: Math.max(0, now - Date.parse(entry.gate.registeredAt)),
      ...(entry.triggeredAt !== undefined
        ? { latencyMs: Math.max(0, now - entry.triggeredAt) }
        : {}),
      ...(effect.outcome === 'released' && state.approvedBy
        ? { approvedBy: state.approvedBy }
        : {}),
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
    return [
      toRecord(topics.changes, event),
      auditRecord(topics.audit, {
        // The decision's id, like its event's: a replayed decision is one ledger entry.
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
    void bestEffort(() =>
      servicenow.addWorkNote(
        entry.gate.change?.sysId ?? state.change?.sysId ?? '',
        `changegate: gate ${effect.outcome} for ${entry.gate.project} → ${entry.gate.environment} (${effect.reason}).${effect.callback === 'failed' ? ` The CI system was NOT told: ${effect.error ?? 'callback failed'}.` : ''}${entry.gate.runUrl ? ` Run: ${entry.gate.runUrl}` : ''}`,
      ),
    );
  };

  const leftImplementRecords = (
    state: CrState,
    effect: Extract<Effect, { kind: 'left-implement' }>,
  ): BusRecord[] => {
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
        id: `${state.number}:left-implement:${state.change?.modCount ?? clock()}`,
        source: '/changegate/worker/gate',
        time: new Date(clock()),
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
  };

  const bestEffort = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      log.warn({ err: coerceError(err).message }, 'ServiceNow work note failed (not retried)');
    }
  };

  const onRecord = async (record: ConsumedRecord) => {
    const event = fromRecord(record);
    if (event.type === 'dev.changegate.gate.registered') {
      const gate = GateRegisteredDataSchema.parse(event.data);
      let change = gate.change;
      if (!change && !states.get(gate.changeNumber)?.change) {
        change = await servicenow.getChange(gate.changeNumber);
      }
      await apply(gate.changeNumber, [
        { kind: 'registered', gate: change ? { ...gate, change } : gate },
      ]);
    } else if (event.type === 'dev.changegate.change.updated') {
      const data = ChangeUpdatedDataSchema.parse(event.data);
      await apply(data.number, [{ kind: 'change', change: snapshotOf(data) }]);
    }
  };

  // Restore, forget what is long finished, and resume what was open.
  await bus
    .ensureTopics([{ topic: topics.gateState, partitions: 1, cleanup: 'compact' }])
    .catch(() => undefined);
  await bus.readToEnd(topics.gateState, (record) => {
    if (!record.key) return;
    if (record.value === null) states.delete(record.key);
    else states.set(record.key, JSON.parse(record.value.toString('utf8')) as CrState);
  });
  const stale: BusRecord[] = [];
  for (const [number, state] of states) {
    if (openGates(state).length === 0 && clock() - state.touchedAt > retainMs) {
      states.delete(number);
      stale.push({ topic: topics.gateState, key: number, value: null, headers: {} });
    }
  }
  if (stale.length > 0) await bus.publish(stale);
  const resumed = [...states.values()].filter((s) => openGates(s).length > 0);
  // A move to Implement asked for just before a crash may never have reached ServiceNow: forget
  // the request so the first evaluation after restart asks again (the move is idempotent).
  for (const state of resumed)
    states.set(state.number, { ...state, advanceRequested: false, approversRequested: false });
  // Resume many CRs at once: their state writes then share produce requests instead of each
  // waiting for its own acknowledgement (100 000 open gates would otherwise take minutes).
  const resume = async (state: CrState) => {
    const deciding = Object.entries(state.gates).filter(([, g]) => g.status === 'deciding');
    await apply(state.number, [{ kind: 'tick' }]);
    for (const [gateId, g] of deciding) {
      const answer = await callBack(
        state,
        gateId,
        g.outcome === 'released' ? 'approve' : 'reject',
        g.reason,
      );
      if (answer) await apply(state.number, [answer]);
      else retryLater(state.number, gateId, 1);
    }
  };
  for (let i = 0; i < resumed.length; i += RESUME_CONCURRENCY) {
    await Promise.all(resumed.slice(i, i + RESUME_CONCURRENCY).map(resume));
  }
  log.info({ states: states.size, open: resumed.length }, 'gate state restored');

  const subscription: Subscription = await bus.subscribe({
    groupId: options.groupId ?? 'changegate-gate',
    topics: [topics.changes],
    fromBeginning: true,
    handler: onRecord,
  });

  return {
    states: () => [...states.values()],
    async reconcile() {
      let n = 0;
      for (const state of [...states.values()]) {
        if (openGates(state).length === 0) continue;
        const change = await servicenow.getChange(state.number);
        if (change) {
          await apply(state.number, [{ kind: 'change', change }]);
          n += 1;
        }
      }
      return n;
    },
    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t.handle);
      timers.clear();
      for (const handle of retries.values()) clearTimeout(handle);
      retries.clear();
      await subscription.close();
      await Promise.all([...locks.values()]);
    },
  };
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
