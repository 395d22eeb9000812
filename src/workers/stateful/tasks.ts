/**
 * The task registry of a stateful processor: which input partitions this replica owns, each as
 * a task with an epoch, and the fencing decision every write asks first. Pure: the processor
 * keeps the current registry and replaces it on every assignment and revocation.
 *
 * An epoch is handed out per assignment, never reused within a processor, so work started for
 * an earlier assignment of a partition (a timer, a handler finishing late, a restore cut short)
 * can tell it is no longer the owner even when the partition came back to this replica since.
 *
 * @module
 */

export type TaskStatus = 'restoring' | 'active';

export interface Task {
  partition: number;
  epoch: number;
  status: TaskStatus;
}

export interface TaskRegistry {
  /** The last epoch handed out. */
  readonly epoch: number;
  readonly tasks: ReadonlyMap<number, Task>;
}

export type WriteDecision =
  { allowed: true } | { allowed: false; reason: 'not-assigned' | 'superseded' | 'restoring' };

export const emptyRegistry = (): TaskRegistry => ({ epoch: 0, tasks: new Map() });

/**
 * Partitions assigned: a task in `restoring` per partition, each with a new epoch. A partition
 * assigned again without a revocation in between gets a new epoch too: the old task is fenced.
 */
export function assignTasks(
  registry: TaskRegistry,
  partitions: readonly number[],
): { registry: TaskRegistry; created: Task[] } {
  const tasks = new Map(registry.tasks);
  let epoch = registry.epoch;
  const created: Task[] = [];
  for (const partition of new Set(partitions)) {
    const task: Task = { partition, epoch: ++epoch, status: 'restoring' };
    tasks.set(partition, task);
    created.push(task);
  }
  return { registry: { epoch, tasks }, created };
}

/** A restore finished: the task may process, unless it was revoked or replaced meanwhile. */
export function activateTask(
  registry: TaskRegistry,
  partition: number,
  epoch: number,
): { registry: TaskRegistry; activated: boolean } {
  const task = registry.tasks.get(partition);
  if (!task || task.epoch !== epoch || task.status !== 'restoring') {
    return { registry, activated: false };
  }
  const tasks = new Map(registry.tasks);
  tasks.set(partition, { ...task, status: 'active' });
  return { registry: { epoch: registry.epoch, tasks }, activated: true };
}

/** Partitions revoked: their tasks are gone; anything still holding their epoch is fenced. */
export function revokeTasks(
  registry: TaskRegistry,
  partitions: readonly number[],
): { registry: TaskRegistry; revoked: Task[] } {
  const tasks = new Map(registry.tasks);
  const revoked: Task[] = [];
  for (const partition of partitions) {
    const task = tasks.get(partition);
    if (!task) continue;
    tasks.delete(partition);
    revoked.push(task);
  }
  return { registry: { epoch: registry.epoch, tasks }, revoked };
}

/** May the task of `partition` with `epoch` write (changelog, emitted records)? */
export function mayWrite(registry: TaskRegistry, partition: number, epoch: number): WriteDecision {
  const task = registry.tasks.get(partition);
  if (!task) return { allowed: false, reason: 'not-assigned' };
  if (task.epoch !== epoch) return { allowed: false, reason: 'superseded' };
  if (task.status !== 'active') return { allowed: false, reason: 'restoring' };
  return { allowed: true };
}
