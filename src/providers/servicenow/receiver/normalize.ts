import { captureRaw, type NormalizedEvent } from '../../../events/build.js';
import { PayloadError } from '../../../errors.js';
import { parsePayload } from '../../../receivers/parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { extraFields, ServiceNowMessageSchema } from './format.js';

/**
 * ServiceNow outbound message → `change.updated` (topic `changes`, key = CR number, so the gate
 * sees one CR's updates in order) or `record.updated` (topic `servicenow`, key = sys_id).
 *
 * @module
 */

const PREFIX = '[changegate/receivers/servicenow]';

/** The table each type implies when the message does not name one. */
const DEFAULT_TABLE = { 'change.updated': 'change_request', 'incident.updated': 'incident' };

/**
 * @throws PayloadError when the body is not the outbound message format.
 */
export async function normalize(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  const message = parsePayload(ServiceNowMessageSchema, request.json, PREFIX);
  if (message.type === 'ping') return { kind: 'ping' };

  const { data } = message;
  const raw = captureRaw(request.json, request.body.byteLength, ctx.rawMaxBytes);
  const fields = extraFields(data);
  const updatedAt = data.sys_updated_on ? { updatedAt: data.sys_updated_on } : {};

  if (message.type === 'change.updated') {
    if (data.table !== undefined && data.table !== 'change_request') {
      throw new PayloadError(
        'invalid_field:data.table',
        `${PREFIX} change.updated needs table change_request`,
      );
    }
    if (!data.number) {
      throw new PayloadError('missing_field:data.number', `${PREFIX} change.updated needs number`);
    }
    const event: NormalizedEvent = {
      type: 'dev.changegate.change.updated',
      key: data.number,
      subject: data.number,
      data: {
        sysId: data.sys_id,
        number: data.number,
        ...(data.state ? { state: data.state } : {}),
        ...(data.approval ? { approval: data.approval } : {}),
        ...(data.correlation_id ? { correlationId: data.correlation_id } : {}),
        ...(data.start_date ? { startDate: data.start_date } : {}),
        ...(data.end_date ? { endDate: data.end_date } : {}),
        fields,
        ...updatedAt,
        deliveryId: request.deliveryId,
        raw,
      },
    };
    return { kind: 'events', events: [event] };
  }

  const table =
    data.table ??
    (message.type === 'incident.updated' ? DEFAULT_TABLE['incident.updated'] : undefined);
  if (!table) {
    throw new PayloadError('missing_field:data.table', `${PREFIX} record.updated needs table`);
  }
  // Known fields other than the identifiers are still fields of the record: keep them.
  const known = {
    ...(data.state ? { state: data.state } : {}),
    ...(data.approval ? { approval: data.approval } : {}),
    ...(data.correlation_id ? { correlation_id: data.correlation_id } : {}),
    ...(data.start_date ? { start_date: data.start_date } : {}),
    ...(data.end_date ? { end_date: data.end_date } : {}),
  };
  const event: NormalizedEvent = {
    type: 'dev.changegate.record.updated',
    key: data.sys_id,
    subject: data.number ?? data.sys_id,
    data: {
      table,
      sysId: data.sys_id,
      ...(data.number ? { number: data.number } : {}),
      fields: { ...fields, ...known },
      ...updatedAt,
      deliveryId: request.deliveryId,
      raw,
    },
  };
  return { kind: 'events', events: [event] };
}
