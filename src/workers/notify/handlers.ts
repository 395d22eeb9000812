import { fromRecord } from '../../bus/cloudevents.js';
import type { ConsumedRecord } from '../../bus/port.js';
import { DeploymentDataSchema } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import type { TableApi } from '../../servicenow/index.js';
import { eventRouter } from '../runtime/index.js';
import type { KeyedContext, Outcome, StatefulRouter, TaskContext } from '../stateful/index.js';
import { readDeadLetter } from '../../events/dead-letter.js';
import type { NotificationVars } from './message.js';
import type { Deliveries, Notifier } from './notifier.js';
import { reminderVars, waitingGate } from './reminders.js';
import {
  emptyNotice,
  gateOfTimer,
  markSent,
  reminderTimer,
  withGate,
  withoutGate,
  type NoticeState,
} from './state.js';

/**
 * What the notify worker does with each record and timer of a key: which events lead to which
 * notification, and what it remembers meanwhile. Each returns the key's next state for the
 * state kit; "sent" is saved through the kit right after each channel accepted a message.
 *
 * @module
 */

export interface NotifyHandlersOptions {
  notifier: Notifier;
  /** `notify.waitingAfterMinutes`. */
  waitingAfterMinutes: number;
  /** The Table API of the configured ServiceNow connection. */
  table: () => TableApi;
  /** The CR's link in ServiceNow. */
  changeUrl: (sysId: string) => string;
  clock: () => number;
}

type Ctx = TaskContext<NoticeState>;

export interface NotifyHandlers {
  /** The events of the changes topic it acts on, keyed by CR number. */
  events: StatefulRouter<NoticeState>;
  /** A kit timer of a CR: a gate's "still waiting" reminder fell due. */
  onTimer(key: string, state: NoticeState, timer: string, ctx: Ctx): Promise<Outcome<NoticeState>>;
  /** A record of the DLQ topic: the change worker could not create a change. */
  onDeadLetter(
    key: string,
    state: NoticeState | undefined,
    record: ConsumedRecord,
    ctx: Ctx,
  ): Promise<Outcome<NoticeState>>;
}

/**
 * The key's state as notifications go out: `markSent` saves it through the kit (fenced), and
 * `current()` is what the handler returns when it is done.
 */
function deliveriesOf(state: NoticeState | undefined, ctx: Ctx) {
  let current = state ?? emptyNotice();
  const deliveries: Deliveries = {
    wasSent: (reason, channel) => current.sent.includes(`${reason}|${channel}`),
    async markSent(reason, channel) {
      const next = markSent(current, reason, channel);
      await ctx.save(next);
      current = next;
    },
    publish: (records) => ctx.publish(records),
    owned: () => ctx.owned(),
  };
  return { deliveries, current: () => current };
}

/** The handlers of one worker. */
export function createNotifyHandlers(options: NotifyHandlersOptions): NotifyHandlers {
  const { notifier, waitingAfterMinutes, table, changeUrl, clock } = options;

  async function sysIdOf(number: string): Promise<string | undefined> {
    const [cr] = await table().query('change_request', {
      query: `number=${number}`,
      limit: 1,
      fields: ['sys_id'],
    });
    return cr?.sys_id;
  }

  const events: StatefulRouter<NoticeState> = eventRouter<
    KeyedContext<NoticeState>,
    Outcome<NoticeState>
  >()
    .on('dev.changegate.gate.registered', async ({ data: g }, ctx) => {
      const { deliveries, current } = deliveriesOf(ctx.state, ctx);
      if (current().gates[g.gateId]) return {};
      const gate = waitingGate(g, waitingAfterMinutes);
      const remind =
        notifier.listens('gate-waiting') && !notifier.allSent('gate-waiting', deliveries);
      return {
        state: withGate(current(), gate),
        ...(remind ? { timers: { [reminderTimer(g.gateId)]: gate.fireAt } } : {}),
      };
    })
    .on(
      [
        'dev.changegate.gate.released',
        'dev.changegate.gate.rejected',
        'dev.changegate.gate.expired',
      ],
      async ({ data: d }, ctx) => {
        const { deliveries, current } = deliveriesOf(ctx.state, ctx);
        const known = current().gates[d.gateId];
        const forget = (): Outcome<NoticeState> =>
          known
            ? {
                state: withoutGate(current(), d.gateId),
                timers: { [reminderTimer(d.gateId)]: null },
              }
            : {};
        if (d.outcome === 'released') return forget();
        const reason = d.outcome === 'rejected' ? 'gate-rejected' : 'gate-expired';
        if (!notifier.listens(reason) || notifier.allSent(reason, deliveries)) return forget();
        const sysId = known?.sysId ?? d.changeSysId ?? (await sysIdOf(d.changeNumber));
        await notifier.notify(
          reason,
          d.changeNumber,
          {
            number: d.changeNumber,
            ...(sysId ? { link: changeUrl(sysId) } : {}),
            runUrl: known?.runUrl,
            project: known?.project ?? projectOf(d.correlationId),
            environment: known?.environment,
            reason: d.reason,
            waitedMs: d.waitedMs,
            correlationId: d.correlationId,
          },
          deliveries,
        );
        return forget();
      },
    )
    .on('dev.changegate.change.created', async ({ data: d }, ctx) => {
      if (!notifier.listens('emergency-approval')) return {};
      const { deliveries } = deliveriesOf(ctx.state, ctx);
      if (d.action !== 'created' || notifier.allSent('emergency-approval', deliveries)) return {};
      // The event does not say which type of CR was created: read it once.
      const cr = await table().get('change_request', d.changeSysId, {
        fields: ['sys_id', 'number', 'type', 'approval', 'state', 'short_description'],
      });
      const awaiting =
        cr.approval !== 'approved' &&
        cr.approval !== 'rejected' &&
        cr.state !== '3' &&
        cr.state !== '4';
      if (cr.type !== 'emergency' || !awaiting) return {};
      await notifier.notify(
        'emergency-approval',
        d.changeNumber,
        {
          number: d.changeNumber,
          link: changeUrl(d.changeSysId),
          runUrl: d.runUrl,
          project: projectOf(d.correlationId),
          shortDescription: cr.short_description,
          correlationId: d.correlationId,
        },
        deliveries,
      );
      return {};
    });

  async function onTimer(
    _key: string,
    state: NoticeState,
    timer: string,
    ctx: Ctx,
  ): Promise<Outcome<NoticeState>> {
    const gateId = gateOfTimer(timer);
    const gate = gateId === undefined ? undefined : state.gates[gateId];
    if (!gate || gate.remindedAt) return {};
    const { deliveries, current } = deliveriesOf(state, ctx);
    await notifier.notify(
      'gate-waiting',
      gate.number,
      reminderVars(gate, changeUrl, clock()),
      deliveries,
    );
    return { state: withGate(current(), { ...gate, remindedAt: new Date(clock()).toISOString() }) };
  }

  /** Dead-lettered by the change worker: the deployment has no CR and waits in vain. */
  async function onDeadLetter(
    _key: string,
    state: NoticeState | undefined,
    record: ConsumedRecord,
    ctx: Ctx,
  ): Promise<Outcome<NoticeState>> {
    const letter = readDeadLetter(record.headers);
    if (letter?.worker !== 'change') return {};
    let event: CloudEvent | undefined;
    try {
      event = fromRecord(record);
    } catch {
      event = undefined;
    }
    const d = DeploymentDataSchema.safeParse(event?.data);
    const correlationId = d.success ? d.data.correlationId : (record.key ?? record.offset);
    const vars: NotificationVars = {
      correlationId,
      error: (letter.error || 'unknown error').replace(/^\[[^\]]+\]\s*/, ''),
      ...(d.success
        ? {
            project: d.data.project,
            environment: d.data.environment,
            runUrl: d.data.run?.url,
          }
        : {}),
    };
    const { deliveries } = deliveriesOf(state, ctx);
    await notifier.notify('change-failed', correlationId, vars, deliveries);
    return {};
  }

  return { events, onTimer, onDeadLetter };
}

/** `<provider>/<project…>/<deployment>` → the project part, for messages. */
function projectOf(correlationId: string): string | undefined {
  const parts = correlationId.split('/');
  return parts.length >= 3 ? parts.slice(1, -1).join('/') : undefined;
}
