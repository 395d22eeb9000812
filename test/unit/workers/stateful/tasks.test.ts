import { describe, expect, it } from 'vitest';
import {
  activateTask,
  assignTasks,
  emptyRegistry,
  mayWrite,
  revokeTasks,
} from '../../../../src/workers/stateful/tasks.js';

describe('task registry and fencing', () => {
  it('lets a task write only once restored, and only with its own epoch', () => {
    const { registry, created } = assignTasks(emptyRegistry(), [0, 2]);
    const [t0, t2] = created;
    expect(mayWrite(registry, 0, t0!.epoch)).toEqual({ allowed: false, reason: 'restoring' });
    const active = activateTask(registry, 0, t0!.epoch);
    expect(active.activated).toBe(true);
    expect(mayWrite(active.registry, 0, t0!.epoch)).toEqual({ allowed: true });
    expect(mayWrite(active.registry, 2, t2!.epoch)).toEqual({
      allowed: false,
      reason: 'restoring',
    });
    expect(mayWrite(active.registry, 1, t0!.epoch)).toEqual({
      allowed: false,
      reason: 'not-assigned',
    });
  });

  it('fences a revoked task, also after its partition came back with a new epoch', () => {
    let { registry, created } = assignTasks(emptyRegistry(), [1]);
    const first = created[0]!;
    registry = activateTask(registry, 1, first.epoch).registry;
    const revoked = revokeTasks(registry, [1]);
    expect(revoked.revoked).toEqual([{ partition: 1, epoch: first.epoch, status: 'active' }]);
    expect(mayWrite(revoked.registry, 1, first.epoch)).toEqual({
      allowed: false,
      reason: 'not-assigned',
    });
    ({ registry, created } = assignTasks(revoked.registry, [1]));
    const second = created[0]!;
    expect(second.epoch).toBeGreaterThan(first.epoch);
    registry = activateTask(registry, 1, second.epoch).registry;
    expect(mayWrite(registry, 1, first.epoch)).toEqual({ allowed: false, reason: 'superseded' });
    expect(mayWrite(registry, 1, second.epoch)).toEqual({ allowed: true });
  });

  it('does not activate a restore that finished after its task was revoked or replaced', () => {
    const a = assignTasks(emptyRegistry(), [0]);
    const stale = a.created[0]!;
    const revoked = revokeTasks(a.registry, [0]);
    expect(activateTask(revoked.registry, 0, stale.epoch).activated).toBe(false);
    const again = assignTasks(a.registry, [0]);
    expect(activateTask(again.registry, 0, stale.epoch).activated).toBe(false);
    expect(activateTask(again.registry, 0, again.created[0]!.epoch).activated).toBe(true);
  });

  it('never hands out an epoch twice and ignores revoking what it does not own', () => {
    let registry = emptyRegistry();
    const epochs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = assignTasks(registry, [0, 1, 1]);
      expect(a.created).toHaveLength(2);
      epochs.push(...a.created.map((t) => t.epoch));
      registry = revokeTasks(a.registry, [0, 1, 7]).registry;
    }
    expect(new Set(epochs).size).toBe(10);
    expect(registry.tasks.size).toBe(0);
  });
});
