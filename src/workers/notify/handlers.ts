import { fromRecord } from '../../bus/cloudevents.js';
import type { ConsumedRecord } from '../../bus/port.js';
import { coerceError } from '../../errors.js';
import { DeploymentDataSchema } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import {
  ChangeActionDataSchema,
  GateDecidedDataSchema,
  GateRegisteredDataSchema,
} from '../../events/gate.js';
import type { Logger } from '../../log.js';
import type { TableApi } from '../../servicenow/index.js';
import type { NotificationVars } from './message.js';
import type { Notifier } from './notifier.js';
import type { Reminders } from './reminders.js';

/**
 * What the notify worker does with each record it reads: which events lead to which
 * notification, and what it remembers meanwhile (run URLs) to make messages useful.
 *
 * @module
 */

const RUN_URL_CACHE = 10_000;

export interface NotifyHandlersOptions {
  notifier: Notifier;
  reminders: Reminders;
  /** The Table API of the configured ServiceNow connection. */
  table: () => TableApi;
  /** The CR's link in ServiceNow. */
  changeUrl: (sysId: string) => string;
  log: Logger;
  /** True once the worker is closing: dead-letter retries stop. */
  closed: () => boolean;
}

export interface NotifyHandlers {
  /** An event of the changes or CI/CD topic. */
  onEvent(event: CloudEvent): Promise<void>;
  /** A record of the DLQ topic; never throws (a dead letter is not dead-lettered again). */
  onDeadLetter(record: ConsumedRecord): Promise<void>;
}

/** The handlers of one worker. */
export function createNotifyHandlers(options: NotifyHandlersOptions): NotifyHandlers {
  const { notifier, reminders, table, changeUrl, log, closed } = options;
  const runUrls = new Map<string, string>();

  const rememberRun = (correlationId: string, url: string | undefined) => {
    if (!url) return;
    runUrls.delete(correlationId);
    runUrls.set(correlationId, url);
    if (runUrls.size > RUN_URL_CACHE) runUrls.delete(runUrls.keys().next().value!);
  };

  async function sysIdOf(number: string): Promise<string | undefined> {
    const [cr] = await table().query('change_request', {
      query: `number=${number}`,
      limit: 1,
      fields: ['sys_id'],
    });
    return cr?.sys_id;
  }

  async function onEvent(event: CloudEvent) {
    const type = event.type;
    if (type.startsWith('dev.changegate.deployment.')) {
      const d = DeploymentDataSchema.safeParse(event.data);
      if (d.success) rememberRun(d.data.correlationId, d.data.run?.url);
      return;
    }
    if (type === 'dev.changegate.gate.registered') {
      const g = GateRegisteredDataSchema.parse(event.data);
      rememberRun(g.correlationId, g.runUrl);
      await reminders.register(g);
      return;
    }
    if (
      type === 'dev.changegate.gate.released' ||
      type === 'dev.changegate.gate.rejected' ||
      type === 'dev.changegate.gate.expired'
    ) {
      const d = GateDecidedDataSchema.parse(event.data);
      const known = reminders.timer(d.gateId);
      await reminders.cancel(d.gateId);
      if (d.outcome === 'released') return;
      const sysId = known?.sysId ?? (await sysIdOf(d.changeNumber));
      await notifier.notify(
        d.outcome === 'rejected' ? 'gate-rejected' : 'gate-expired',
        d.changeNumber,
        {
          number: d.changeNumber,
          ...(sysId ? { link: changeUrl(sysId) } : {}),
          runUrl: known?.runUrl ?? runUrls.get(d.correlationId),
          project: known?.project ?? projectOf(d.correlationId),
          environment: known?.environment,
          reason: d.reason,
          waitedMs: d.waitedMs,
          correlationId: d.correlationId,
        },
      );
      return;
    }
    if (type === 'dev.changegate.change.created') {
      const d = ChangeActionDataSchema.parse(event.data);
      if (!notifier.listens('emergency-approval')) return;
      if (d.action !== 'created' || notifier.allSent('emergency-approval', d.changeNumber)) return;
      // The event does not say which type of CR was created: read it once.
      const cr = await table().get('change_request', d.changeSysId, {
        fields: ['sys_id', 'number', 'type', 'approval', 'state', 'short_description'],
      });
      const awaiting =
        cr.approval !== 'approved' &&
        cr.approval !== 'rejected' &&
        cr.state !== '3' &&
        cr.state !== '4';
      if (cr.type !== 'emergency' || !awaiting) return;
      await notifier.notify('emergency-approval', d.changeNumber, {
        number: d.changeNumber,
        link: changeUrl(d.changeSysId),
        runUrl: runUrls.get(d.correlationId),
        project: projectOf(d.correlationId),
        shortDescription: cr.short_description,
        correlationId: d.correlationId,
      });
    }
  }

  /** Dead-lettered by the change worker: the deployment has no CR and waits in vain. */
  async function onDeadLetter(record: ConsumedRecord) {
    if (record.headers['changegate-worker'] !== 'change') return;
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
      error: (record.headers['changegate-error'] ?? 'unknown error').replace(/^\[[^\]]+\]\s*/, ''),
      ...(d.success
        ? {
            project: d.data.project,
            environment: d.data.environment,
            runUrl: d.data.run?.url,
          }
        : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await notifier.notify('change-failed', correlationId, vars);
        return;
      } catch (err) {
        // Never dead-letter a dead letter: after the attempts, the audit trail has the failure.
        if (attempt >= 3 || closed()) {
          log.error(
            { err: coerceError(err).message, correlationId },
            'change-failed notification lost',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * attempt));
      }
    }
  }

  return { onEvent, onDeadLetter };
}

/** `<provider>/<project…>/<deployment>` → the project part, for messages. */
function projectOf(correlationId: string): string | undefined {
  const parts = correlationId.split('/');
  return parts.length >= 3 ? parts.slice(1, -1).join('/') : undefined;
}
