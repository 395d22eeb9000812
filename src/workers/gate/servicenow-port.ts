import type { ChangeSnapshot } from '../../events/gate.js';
import { approversOf } from '../../servicenow/approvals.js';
import { CHANGE_STATE, type ServiceNowClients, type SnRecord } from '../../servicenow/index.js';
import type { GateServiceNow } from './ports.js';

/** The fields gate rules read by name; the rest of the record goes to `fields`. */
export function snapshotFromRecord(record: SnRecord): ChangeSnapshot {
  const modCount = record.sys_mod_count;
  return {
    sysId: record.sys_id ?? '',
    number: record.number ?? '',
    ...(record.state !== undefined ? { state: record.state } : {}),
    ...(record.approval !== undefined ? { approval: record.approval } : {}),
    ...(record.start_date ? { startDate: record.start_date } : {}),
    ...(record.end_date ? { endDate: record.end_date } : {}),
    fields: record,
    ...(modCount !== undefined && /^\d+$/.test(modCount) ? { modCount: Number(modCount) } : {}),
    ...(record.sys_updated_on ? { updatedAt: record.sys_updated_on } : {}),
  };
}

/** The gate worker's view of ServiceNow, over the REST client of one connection. */
export function gateServiceNowPort(
  servicenow: ServiceNowClients,
  connection?: string,
): GateServiceNow {
  const client = () => servicenow.clientFor(connection);
  return {
    async getChange(number) {
      const [record] = await client().table.query('change_request', {
        query: `number=${number}`,
        limit: 1,
      });
      return record ? snapshotFromRecord(record) : undefined;
    },
    async moveToImplement(sysId, state) {
      const sn = client();
      const cr = state ? { sys_id: sysId, state } : await sn.table.get('change_request', sysId);
      const walked = await sn.lifecycle.walkTo(cr, CHANGE_STATE.implement);
      if (walked.outcome === 'blocked' || walked.outcome === 'ended')
        throw new Error(`${cr.number ?? sysId} not moved to Implement: ${walked.detail}`);
    },
    async addWorkNote(sysId, text) {
      if (!sysId) return;
      await client().table.addWorkNote('change_request', sysId, text);
    },
    getApprovers: (sysId) => approversOf(client().table, sysId),
  };
}
