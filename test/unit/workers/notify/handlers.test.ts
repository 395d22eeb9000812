import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BusRecord } from '../../../../src/bus/port.js';
import { NotifySchema } from '../../../../src/config/notify.js';
import { buildEvent, type NormalizedEvent } from '../../../../src/events/build.js';
import type { CloudEvent } from '../../../../src/events/envelope.js';
import {
  createNotifyHandlers,
  type NotifyHandlers,
} from '../../../../src/workers/notify/handlers.js';
import { createNotifier } from '../../../../src/workers/notify/notifier.js';
import { reminderTimer, type NoticeState } from '../../../../src/workers/notify/state.js';
import { routeEvents, type TaskContext } from '../../../../src/workers/stateful/index.js';

/** An event handed to the handlers as the state kit hands it (routed by type). */
const onEvent = (
  handlers: NotifyHandlers,
  key: string,
  state: NoticeState | undefined,
  event: CloudEvent,
  ctx: TaskContext<NoticeState>,
) =>
  routeEvents(handlers.events)
    .handle(key, state, event, ctx)
    .then((outcome) => {
      if (!outcome) throw new Error(`no notify handler took ${event.type}`);
      return outcome;
    });

/**
 * The notify handlers as the state kit calls them: what each event does to a CR's state, when
 * "sent" is saved, and that a task that lost its partition sends nothing more.
 */

const NUMBER = 'CHG0077001';
const SYS_ID = 'b'.repeat(32);
const REGISTERED_AT = '2026-12-01T09:00:00.000Z';
const NOW = Date.parse('2026-12-01T09:30:00.000Z');

const config = NotifySchema.parse({
  waitingAfterMinutes: 20,
  channels: [
    { name: 'ops', kind: 'slack', url: 'https://hooks.slack.example/services/ops' },
    { name: 'cab', kind: 'slack', url: 'https://hooks.slack.example/services/cab' },
  ],
});

function harness({ failing = new Set<string>() } = {}) {
  const posts: string[] = [];
  const fetchImpl = (async (url: string | URL | Request) => {
    const hook = String(url).split('/').pop()!;
    posts.push(hook);
    return new Response(failing.has(hook) ? 'down' : 'ok', {
      status: failing.has(hook) ? 400 : 200,
    });
  }) as typeof fetch;
  const notifier = createNotifier({
    config,
    auditTopic: 'audit',
    log: pino({ level: 'silent' }),
    clock: () => NOW,
    fetchImpl,
  });
  const handlers = createNotifyHandlers({
    notifier,
    waitingAfterMinutes: config.waitingAfterMinutes,
    // Every gate here says which CR it is on: ServiceNow is never asked.
    table: () => {
      throw new Error('not expected: ServiceNow was asked');
    },
    changeUrl: (sysId) => `https://sn.example/nav_to.do?uri=change_request.do?sys_id=${sysId}`,
    clock: () => NOW,
  });
  const saved: NoticeState[] = [];
  const published: BusRecord[] = [];
  let owned = true;
  const ctx: TaskContext<NoticeState> = {
    partition: 0,
    attempt: 1,
    log: pino({ level: 'silent' }),
    owned: () => owned,
    save: async (state) => void saved.push(state),
    publish: async (records) => void published.push(...records),
  };
  return { handlers, posts, saved, published, ctx, lose: () => (owned = false) };
}

function event(normalized: NormalizedEvent): CloudEvent {
  return buildEvent(normalized, { id: 'e-1', source: 'test', time: new Date(NOW) });
}
const registered = event({
  type: 'dev.changegate.gate.registered',
  subject: NUMBER,
  key: NUMBER,
  data: {
    gateId: 'g-1',
    changeNumber: NUMBER,
    changeSysId: SYS_ID,
    provider: 'jenkins',
    project: 'acme/payments',
    environment: 'production',
    deploymentId: 'd-1',
    correlationId: 'jenkins/acme/payments/d-1',
    callback: { kind: 'generic', url: 'https://ci.example/cb' },
    runUrl: 'https://ci.example/runs/1',
    registeredAt: REGISTERED_AT,
  },
});
const rejected = event({
  type: 'dev.changegate.gate.rejected',
  subject: NUMBER,
  key: NUMBER,
  data: {
    gateId: 'g-1',
    changeNumber: NUMBER,
    correlationId: 'jenkins/acme/payments/d-1',
    outcome: 'rejected',
    reason: 'CR rejected',
    decidedAt: new Date(NOW).toISOString(),
    waitedMs: 1000,
    callback: { status: 'done', httpStatus: 200 },
  },
});

describe('notify handlers on the state kit', () => {
  it('remembers a registered gate and arms its reminder, once', async () => {
    const h = harness();
    const out = await onEvent(h.handlers, NUMBER, undefined, registered, h.ctx);
    expect(out.timers).toEqual({
      [reminderTimer('g-1')]: Date.parse(REGISTERED_AT) + 20 * 60_000,
    });
    expect(out.state?.gates['g-1']).toMatchObject({
      number: NUMBER,
      sysId: SYS_ID,
      project: 'acme/payments',
    });
    expect(await onEvent(h.handlers, NUMBER, out.state!, registered, h.ctx)).toEqual({});
    expect(h.posts).toEqual([]);
  });

  it('sends a rejection to each channel, saving after each, and forgets the gate', async () => {
    const h = harness();
    const { state } = await onEvent(h.handlers, NUMBER, undefined, registered, h.ctx);
    const out = await onEvent(h.handlers, NUMBER, state!, rejected, h.ctx);
    expect(h.posts).toEqual(['ops', 'cab']);
    expect(h.saved.map((s) => s.sent)).toEqual([
      ['gate-rejected|ops'],
      ['gate-rejected|ops', 'gate-rejected|cab'],
    ]);
    expect(out.state?.gates).toEqual({});
    expect(out.state?.sent).toEqual(['gate-rejected|ops', 'gate-rejected|cab']);
    expect(out.timers).toEqual({ [reminderTimer('g-1')]: null });
    expect(h.published.map((r) => JSON.parse(r.value!.toString()).action)).toEqual(['notify.sent']);

    // Redelivered after the state was written: nothing is sent again.
    const again = harness();
    await onEvent(again.handlers, NUMBER, out.state!, rejected, again.ctx);
    expect(again.posts).toEqual([]);
  });

  it('after a partial failure, re-sends only to the channel that missed it', async () => {
    const first = harness({ failing: new Set(['cab']) });
    const { state } = await onEvent(first.handlers, NUMBER, undefined, registered, first.ctx);
    await expect(onEvent(first.handlers, NUMBER, state!, rejected, first.ctx)).rejects.toThrow(
      /channel cab \(slack\) answered HTTP 400/,
    );
    const kept = first.saved.at(-1)!;
    expect(kept.sent).toEqual(['gate-rejected|ops']);
    const retry = harness();
    await onEvent(retry.handlers, NUMBER, kept, rejected, retry.ctx);
    expect(retry.posts).toEqual(['cab']);
  });

  it('sends nothing more once its task lost the partition', async () => {
    const h = harness();
    const { state } = await onEvent(h.handlers, NUMBER, undefined, registered, h.ctx);
    h.lose();
    await onEvent(h.handlers, NUMBER, state!, rejected, h.ctx);
    expect(h.posts).toEqual([]);
  });

  it('reminds once when the gate is still waiting, then not again', async () => {
    const h = harness();
    const { state } = await onEvent(h.handlers, NUMBER, undefined, registered, h.ctx);
    const out = await h.handlers.onTimer(NUMBER, state!, reminderTimer('g-1'), h.ctx);
    expect(h.posts).toEqual(['ops', 'cab']);
    expect(out.state?.gates['g-1']?.remindedAt).toBe(new Date(NOW).toISOString());
    expect(await h.handlers.onTimer(NUMBER, out.state!, reminderTimer('g-1'), h.ctx)).toEqual({});
    expect(h.posts).toHaveLength(2);
  });
});
