import { randomUUID } from 'node:crypto';
import { toRecord } from '../bus/cloudevents.js';
import type { Bus } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import { buildEvent } from '../events/build.js';
import { openGates, type CrState } from '../gate/machine.js';
import { crStateOfRecord } from '../workers/gate/state-record.js';
import type { Logger } from '../log.js';
import type { ServiceNowClients } from '../servicenow/index.js';

/**
 * `changegate reconcile`: for when a business-rule message was lost. Reads the gate state once,
 * reads each CR with an open gate once from ServiceNow, and publishes what it read as a
 * `change.updated` event, so the gate worker applies it exactly like a pushed update (stale
 * reads lose to newer pushes by `sys_mod_count`). Run by a person or a one-off job, never on a
 * timer.
 */
export async function reconcile({
  config,
  bus,
  servicenow,
  log,
}: {
  config: Config;
  bus: Bus;
  servicenow: ServiceNowClients;
  log: Logger;
}): Promise<{ open: number; published: number }> {
  const states = new Map<string, CrState>();
  await bus.readToEnd(config.kafka.topics.gateState, (record) => {
    if (!record.key) return;
    const state = crStateOfRecord(record.value);
    if (state === null) states.delete(record.key);
    else if (state) states.set(record.key, state);
  });
  const open = [...states.values()].filter((s) => openGates(s).length > 0);
  const records = [];
  const client = servicenow.clientFor();
  for (const state of open) {
    const [cr] = await client.table.query('change_request', {
      query: `number=${state.number}`,
      limit: 1,
    });
    if (!cr?.sys_id || !cr.number) {
      log.warn({ number: state.number }, 'open gate whose CR is not found in ServiceNow');
      continue;
    }
    const {
      sys_id,
      number,
      state: crState,
      approval,
      correlation_id,
      start_date,
      end_date,
      sys_updated_on,
      ...rest
    } = cr;
    const event = buildEvent(
      {
        type: 'dev.changegate.change.updated',
        subject: number,
        key: number,
        data: {
          sysId: sys_id,
          number,
          ...(crState !== undefined ? { state: crState } : {}),
          ...(approval !== undefined ? { approval } : {}),
          ...(correlation_id ? { correlationId: correlation_id } : {}),
          ...(start_date ? { startDate: start_date } : {}),
          ...(end_date ? { endDate: end_date } : {}),
          ...(sys_updated_on ? { updatedAt: sys_updated_on } : {}),
          fields: rest,
          deliveryId: `reconcile-${randomUUID()}`,
          raw: { truncated: false, bytes: 0, payload: null },
        },
      },
      { id: `reconcile-${randomUUID()}`, source: '/changegate/reconcile', time: new Date() },
    );
    records.push(toRecord(config.kafka.topics.changes, event));
  }
  if (records.length > 0) await bus.publish(records);
  log.info({ open: open.length, published: records.length }, 'reconcile done');
  return { open: open.length, published: records.length };
}
