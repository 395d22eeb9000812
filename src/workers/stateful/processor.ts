import type { z } from 'zod';
import type {
  Bus,
  BusRecord,
  ConsumedRecord,
  Subscription,
  TopicPartition,
} from '../../bus/port.js';
import { FencedError, coerceError } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  DEFAULT_RETRY,
  backoffMs,
  deadLetterRecord,
  withAttempts,
  type RetryPolicy,
  type WorkerOutcome,
} from '../runtime/index.js';
import { decodeEntry, encodeEntry, entryChanged, nextEntry, type Entry } from './changelog.js';
import {
  activateTask,
  assignTasks,
  emptyRegistry,
  mayWrite,
  revokeTasks,
  type TaskRegistry,
} from './tasks.js';

/**
 * A stateful processor, modelled on a Kafka Streams task: each partition of the input topic is
 * a task with the state of its keys and their timers. The changelog is a compacted topic
 * co-partitioned with the input (same partition count; a key's state is written to the
 * partition number of the input record, explicitly, whatever the changelog's own partitioner
 * would pick), so a replica assigned input partition p restores changelog partition p — only
 * its own partitions, in parallel — before it handles any record of p (the bus port's
 * onAssigned). Every change is written to the changelog before memory changes, so memory never
 * holds what a restore would not give back; records a handler emits are published before the
 * state that says they were, so a crash in between repeats them instead of losing them
 * (at-least-once: downstream must be idempotent, as every changegate consumer is).
 *
 * A revoked task can no longer write: every write first asks the task registry (tasks.ts)
 * whether this task's epoch still owns its partition. Revocation (the bus's onRevoked, after
 * every handler of the partition settled) removes the task synchronously, clears its timers and
 * waits for the timer work already running, whose next write is then refused.
 *
 * Why not Kafka transactions: kafkajs 2.2.4 sends TxnOffsetCommit v0/v1 only
 * (src/protocol/requests/txnOffsetCommit), without the group generation and member id of
 * KIP-447, so a transactional producer is not fenced by the consumer group; fencing would need
 * one transactional.id per input partition (Kafka Streams' pre-2.6 "eos-alpha"), i.e. one
 * producer and one serial transaction per partition per replica, while the idempotent
 * producer already breaks with concurrent requests per partition (kafkajs#598) and
 * `sendOffsets` is not retried on CONCURRENT_TRANSACTIONS (kafkajs#430, open). What epochs
 * cannot fence is a replica that does not know it lost its partitions (paused past its session
 * timeout, partitioned away): its write in flight, or its next one before its next heartbeat,
 * can land after the new owner restored. A transaction would abort that write; here it is
 * bounded by the session timeout and repaired by idempotent consumers, and the time a write
 * waits between its fence check and its acknowledgement.
 *
 * @module
 */

export { FencedError };

export interface Outcome<T> {
  /** The key's new state; null forgets the key (and its timers); omitted keeps it. */
  state?: T | null;
  /** Records to publish before the state is written. */
  emit?: BusRecord[];
  /** The key's timers to arm (due, ms since epoch) or cancel (null), by name. */
  timers?: Record<string, number | null>;
}

export interface TaskContext<T> {
  readonly partition: number;
  readonly log: Logger;
  /** 1 on the first try. */
  readonly attempt: number;
  /**
   * Write the key's state (and set or cancel timers) now (fenced, changelog first), before the
   * handler returns: right after an external effect succeeded, so a retry after a later failure
   * does not repeat it.
   */
  save(state: T, timers?: Record<string, number | null>): Promise<void>;
  /** Publish records now (fenced), e.g. the audit of an external effect. */
  publish(records: BusRecord[]): Promise<void>;
  /** False once the task lost its partition (an external effect should not start then). */
  owned(): boolean;
}

export interface StatefulProcessorOptions<S extends z.ZodType, E> {
  bus: Bus;
  /** For logs and the DLQ's `changegate-worker` header. */
  name: string;
  groupId: string;
  input: string;
  /** Compacted; created with `partitions` if missing. */
  changelog: string;
  /** The input topic's partition count: the changelog must have the same. */
  partitions: number;
  /** The state of one key, as read back from the changelog. */
  schema: S;
  /** Poison records (unreadable, not retryable, or out of attempts) go here. */
  dlqTopic: string;
  log: Logger;
  /** The input record as the handler wants it; a throw dead-letters the record. */
  decode: (record: ConsumedRecord) => E;
  /** The key's outcome of a record; undefined when the record is not for this processor. */
  handle: (
    key: string,
    state: z.output<S> | undefined,
    event: E,
    ctx: TaskContext<z.output<S>>,
  ) => Promise<Outcome<z.output<S>> | undefined>;
  /**
   * A timer of a key fell due; the fired timer is gone unless the outcome sets it again (set
   * again to the same due time, it is called again after `overdueGraceMs`).
   */
  onTimer?: (
    key: string,
    state: z.output<S>,
    timer: string,
    ctx: TaskContext<z.output<S>>,
  ) => Promise<Outcome<z.output<S>>>;
  /** Default true (a new group reads the input from its beginning). */
  fromBeginning?: boolean;
  /** The worker runtime's retry rule (runtime/attempts.ts); a due timer backs off by it too. */
  retry?: Partial<RetryPolicy>;
  /**
   * Input partitions became this replica's tasks and are restored; their records come next.
   * For state kept beside the kit (the ledger's checkpoints).
   */
  onTasksAssigned?: (partitions: number[]) => void;
  /**
   * Input partitions are being revoked: called synchronously before their tasks are fenced, so
   * the state read here is exactly what the tasks had; the kit waits for the promise.
   */
  onTasksRevoking?: (partitions: number[]) => Promise<void>;
  /**
   * A timer already due when it is armed (its task restored after a long stop, or set in the
   * past by a record replayed from history) waits this long, so an input record still queued
   * behind it (the decision that cancels a reminder) is handled first. Default 5 s.
   */
  overdueGraceMs?: number;
  clock?: () => number;
  /** Per input record, once it is done with (metrics). */
  onOutcome?: (outcome: WorkerOutcome, ms: number) => void;
}

export interface StatefulProcessor<T> {
  /** Input partitions this replica owns and has restored. */
  partitions(): number[];
  /** Every key's state in the active tasks. */
  entries(): [string, T][];
  close(): Promise<void>;
}

/** setTimeout's limit (~24.8 days): a longer wait is re-armed when it ends. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_TIMER_RETRY_MS = 60_000;

interface LiveTask<T> {
  partition: number;
  epoch: number;
  store: Map<string, Entry<T>>;
  /** `key\0timer` → handle. */
  handles: Map<string, NodeJS.Timeout>;
  /** Failed attempts of a due timer, for its backoff. */
  timerAttempts: Map<string, number>;
  /** Records and timers of a task run one at a time, in this chain. */
  chain: Promise<void>;
}

const noop = () => undefined;

/** Start consuming `input` as per-partition tasks; resolves once subscribed. */
export async function createStatefulProcessor<S extends z.ZodType, E>(
  options: StatefulProcessorOptions<S, E>,
): Promise<StatefulProcessor<z.output<S>>> {
  type T = z.output<S>;
  const { bus, name, input, changelog, schema, decode, handle, onTimer } = options;
  const { overdueGraceMs = 5_000, clock = Date.now } = options;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const log = options.log.child({ processor: name });
  let registry: TaskRegistry = emptyRegistry();
  const live = new Map<number, LiveTask<T>>();

  await bus.ensureTopics([
    { topic: changelog, partitions: options.partitions, cleanup: 'compact' },
  ]);

  const owns = (task: LiveTask<T>) => mayWrite(registry, task.partition, task.epoch).allowed;
  const fence = (task: LiveTask<T>) => {
    const decision = mayWrite(registry, task.partition, task.epoch);
    if (!decision.allowed) {
      throw new FencedError(
        `[changegate/stateful] ${name}: partition ${task.partition} (epoch ${task.epoch}) ${decision.reason}; not writing`,
      );
    }
  };
  const run = <R>(task: LiveTask<T>, fn: () => Promise<R>): Promise<R> => {
    const result = task.chain.then(fn);
    task.chain = result.then(noop, noop);
    return result;
  };

  async function write(
    task: LiveTask<T>,
    key: string,
    before: Entry<T> | undefined,
    after: Entry<T> | null | undefined,
    emit: BusRecord[],
  ): Promise<void> {
    if (emit.length > 0) {
      fence(task);
      await bus.publish(emit);
    }
    if (!entryChanged(before, after)) return;
    fence(task);
    await bus.publish([
      {
        topic: changelog,
        key,
        value: encodeEntry(after ?? null),
        headers: { 'content-type': 'application/json' },
        toPartition: task.partition,
      },
    ]);
    if (after) task.store.set(key, after);
    else task.store.delete(key);
    rearm(task, key, before?.timers ?? {}, after?.timers ?? {});
  }

  function rearm(
    task: LiveTask<T>,
    key: string,
    before: Record<string, number>,
    after: Record<string, number>,
  ) {
    for (const [timer, due] of Object.entries(before)) {
      if (after[timer] === due) continue;
      const slot = `${key}\0${timer}`;
      clearTimeout(task.handles.get(slot));
      task.handles.delete(slot);
      task.timerAttempts.delete(slot);
    }
    for (const [timer, due] of Object.entries(after)) {
      if (before[timer] !== due) armDue(task, key, timer, due);
    }
  }

  /** Arm at `due`, or after the overdue grace when `due` has passed. */
  function armDue(task: LiveTask<T>, key: string, timer: string, due: number) {
    const wait = due - clock();
    arm(task, key, timer, due, wait > 0 ? wait : overdueGraceMs);
  }

  function arm(task: LiveTask<T>, key: string, timer: string, due: number, delayMs: number) {
    const slot = `${key}\0${timer}`;
    clearTimeout(task.handles.get(slot));
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, delayMs));
    const handle = setTimeout(() => {
      task.handles.delete(slot);
      if (!owns(task)) return;
      if (due - clock() > 0 && wait === MAX_TIMER_MS) {
        arm(task, key, timer, due, due - clock());
        return;
      }
      void run(task, () => fire(task, key, timer, due));
    }, wait);
    handle.unref?.();
    task.handles.set(slot, handle);
  }

  function context(task: LiveTask<T>, key: string, attempt: number, elog: Logger): TaskContext<T> {
    return {
      partition: task.partition,
      log: elog,
      attempt,
      owned: () => owns(task),
      publish: async (records) => {
        fence(task);
        await bus.publish(records);
      },
      save: async (state, timers) => {
        const current = task.store.get(key);
        await write(
          task,
          key,
          current,
          nextEntry(current, { state, ...(timers ? { timers } : {}) }),
          [],
        );
      },
    };
  }

  async function fire(task: LiveTask<T>, key: string, timer: string, due: number) {
    const entry = task.store.get(key);
    // Cancelled or moved meanwhile (the entry changed under the same task chain).
    if (!owns(task) || !entry || entry.timers[timer] !== due || !onTimer) return;
    const slot = `${key}\0${timer}`;
    const attempt = (task.timerAttempts.get(slot) ?? 0) + 1;
    const elog = log.child({ partition: task.partition, key, timer, attempt });
    try {
      const outcome = await onTimer(key, entry.state, timer, context(task, key, attempt, elog));
      const current = task.store.get(key);
      task.timerAttempts.delete(slot);
      await write(task, key, current, nextEntry(current, outcome, timer), outcome.emit ?? []);
      // Set again to the due time it just fired at: the entry did not change, so nothing was
      // re-armed; the handler asks to be called again, after the overdue grace.
      const again = outcome.timers?.[timer];
      if (again != null && Math.round(again) === due && task.store.get(key)?.timers[timer] === due)
        arm(task, key, timer, due, overdueGraceMs);
    } catch (err) {
      if (err instanceof FencedError || !owns(task)) return;
      // A timer is state, not a record: it cannot be dead-lettered, so it backs off without end
      // (from 5× the record backoff, capped at a minute; half-jittered, so timers that failed
      // together in an outage do not all retry at once), while the state machines set their
      // own retry intent for what they expect.
      const retryInMs = backoffMs(
        { ...policy, baseDelayMs: policy.baseDelayMs * 5, maxDelayMs: MAX_TIMER_RETRY_MS },
        attempt,
        () => 0.5 + Math.random() / 2,
      );
      task.timerAttempts.set(slot, attempt);
      elog.warn({ err: coerceError(err).message, retryInMs }, 'timer failed; retrying');
      arm(task, key, timer, due, retryInMs);
    }
  }

  async function processRecord(
    task: LiveTask<T>,
    key: string,
    event: E,
    attempt: number,
    elog: Logger,
  ) {
    fence(task);
    const before = task.store.get(key);
    const outcome = await handle(key, before?.state, event, context(task, key, attempt, elog));
    if (outcome === undefined) return false;
    const current = task.store.get(key);
    await write(task, key, current, nextEntry(current, outcome), outcome.emit ?? []);
    return true;
  }

  async function onRecord(record: ConsumedRecord): Promise<void> {
    const task = live.get(record.partition);
    if (!task || !owns(task)) {
      // The bus hands us records only of partitions we own; this one is on its way elsewhere.
      throw new FencedError(
        `[changegate/stateful] ${name}: partition ${record.partition} not owned`,
      );
    }
    const plog = log.child({ partition: record.partition, offset: record.offset });
    const started = performance.now();
    const poison = async (error: Error, attempts: number) => {
      fence(task);
      await bus.publish([deadLetterRecord(options.dlqTopic, name, record, error, attempts)]);
      plog.error({ err: error.message, attempts }, 'record dead-lettered');
      options.onOutcome?.('dead-lettered', performance.now() - started);
    };
    if (record.key === null) {
      // State is per key: a record without one has none to go with.
      await poison(new TypeError('a stateful processor needs keyed records'), 0);
      return;
    }
    let event: E;
    try {
      event = decode(record);
    } catch (err) {
      await poison(coerceError(err), 0);
      return;
    }
    const key = record.key;
    let handled = false;
    const outcome = await withAttempts(
      async (attempt) => {
        handled = await run(task, () =>
          processRecord(task, key, event, attempt, plog.child({ attempt })),
        );
      },
      { policy, log: plog },
    );
    if (outcome.kind === 'poison') await poison(outcome.error, outcome.attempts);
    else options.onOutcome?.(handled ? 'done' : 'skipped', performance.now() - started);
  }

  async function onAssigned(partitions: TopicPartition[]): Promise<void> {
    const mine = partitions.filter((p) => p.topic === input).map((p) => p.partition);
    if (mine.length === 0) return;
    const beyond = mine.filter((p) => p >= options.partitions);
    if (beyond.length > 0) {
      // Co-partitioning is broken: the state of these partitions has nowhere to go. Refusing
      // the assignment keeps their records waiting (the bus retries) instead of losing them.
      const message = `[changegate/stateful] ${name}: ${input} has partition ${beyond.join(', ')}, but ${changelog} is declared with ${options.partitions}; give both the same partition count`;
      log.error({ partitions: beyond }, message);
      throw new Error(message);
    }
    const started = performance.now();
    const assigned = assignTasks(registry, mine);
    registry = assigned.registry;
    const tasks = new Map<number, LiveTask<T>>();
    for (const t of assigned.created) {
      drop(live.get(t.partition));
      const task: LiveTask<T> = {
        partition: t.partition,
        epoch: t.epoch,
        store: new Map(),
        handles: new Map(),
        timerAttempts: new Map(),
        chain: Promise.resolve(),
      };
      tasks.set(t.partition, task);
      live.set(t.partition, task);
    }
    let unreadable = 0;
    let firstError: string | undefined;
    await bus.readPartitionsToEnd(changelog, mine, (record) => {
      const task = tasks.get(record.partition);
      if (!task || record.key === null) return;
      const decoded = decodeEntry(schema, record.value);
      if (!decoded.ok) {
        // A record we cannot read must not block the partition: skip it, say so once.
        unreadable++;
        firstError ??= `${record.key}@${record.offset}: ${decoded.error}`;
        return;
      }
      if (decoded.entry) task.store.set(record.key, decoded.entry);
      else task.store.delete(record.key);
    });
    let keys = 0;
    for (const task of tasks.values()) {
      const activated = activateTask(registry, task.partition, task.epoch);
      registry = activated.registry;
      if (!activated.activated) continue;
      keys += task.store.size;
      for (const [key, entry] of task.store) {
        for (const [timer, due] of Object.entries(entry.timers)) armDue(task, key, timer, due);
      }
    }
    if (unreadable > 0) {
      log.warn({ unreadable, first: firstError }, 'unreadable changelog records skipped');
    }
    const active = [...tasks.values()].filter((t) => owns(t)).map((t) => t.partition);
    if (active.length > 0) options.onTasksAssigned?.(active);
    log.info(
      { partitions: mine, keys, ms: Math.round(performance.now() - started) },
      'partitions assigned and restored',
    );
  }

  function drop(task: LiveTask<T> | undefined) {
    if (!task) return;
    for (const handle of task.handles.values()) clearTimeout(handle);
    task.handles.clear();
    if (live.get(task.partition) === task) live.delete(task.partition);
  }

  async function onRevoked(partitions: TopicPartition[]): Promise<void> {
    const mine = partitions.filter((p) => p.topic === input).map((p) => p.partition);
    const owned = mine.filter((p) => registry.tasks.has(p));
    const hook =
      owned.length > 0
        ? options
            .onTasksRevoking?.(owned)
            .catch((err: unknown) =>
              log.error({ err: coerceError(err).message }, 'onTasksRevoking failed'),
            )
        : undefined;
    // Synchronous up to here: from now on no write of these tasks passes its fence.
    const revoked = revokeTasks(registry, mine);
    registry = revoked.registry;
    const chains: Promise<void>[] = [];
    for (const t of revoked.revoked) {
      const task = live.get(t.partition);
      if (!task || task.epoch !== t.epoch) continue;
      drop(task);
      chains.push(task.chain);
    }
    await Promise.all([...chains, hook]);
    if (revoked.revoked.length > 0) log.info({ partitions: mine }, 'partitions revoked');
  }

  const subscription: Subscription = await bus.subscribe({
    groupId: options.groupId,
    topics: [input],
    fromBeginning: options.fromBeginning ?? true,
    handler: onRecord,
    onAssigned,
    onRevoked,
  });

  return {
    partitions: () =>
      [...registry.tasks.values()]
        .filter((t) => t.status === 'active')
        .map((t) => t.partition)
        .sort((a, b) => a - b),
    entries: () =>
      [...live.values()]
        .filter((task) => owns(task))
        .flatMap((task) => [...task.store].map(([key, e]): [string, T] => [key, e.state])),
    close: () => subscription.close(),
  };
}
