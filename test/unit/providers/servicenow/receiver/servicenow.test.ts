import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourcesConfig } from '../../../../../src/config/schema.js';
import { VerificationError } from '../../../../../src/errors.js';
import { servicenowReceiver } from '../../../../../src/providers/servicenow/receiver/index.js';
import {
  SECRET,
  VERIFY,
  fixture,
  mutatedDocument,
  onlyEvent,
  assertVerifyFailsCleanly,
  onlyKnownErrors,
  setAt,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const secrets = { secrets: [SECRET] };
const ctx = testContext();

async function deliver(payload: unknown) {
  const raw = signedRequest(payload, { id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' });
  const { deliveryId } = servicenowReceiver.verify(raw, secrets, VERIFY);
  return servicenowReceiver.normalize(verifiedRequest(raw, deliveryId), ctx);
}

describe('servicenow receiver', () => {
  it('is configured by sources.servicenow', () => {
    expect(servicenowReceiver.secrets({ generic: {} } as SourcesConfig, {})).toBeUndefined();
    expect(
      servicenowReceiver.secrets({ generic: {}, servicenow: secrets } as SourcesConfig, {}),
    ).toBe(secrets);
  });

  it('rejects a message whose body was re-serialized after signing', () => {
    const body = JSON.stringify(fixture('servicenow/synthetic-change-updated.json'));
    const raw = signedRequest(body);
    const reformatted = {
      ...raw,
      body: new TextEncoder().encode(JSON.stringify(JSON.parse(body), null, 2)),
    };
    expect(() => servicenowReceiver.verify(reformatted, secrets, VERIFY)).toThrow(
      VerificationError,
    );
  });

  it('maps change.updated to change.updated keyed by the CR number', async () => {
    const event = onlyEvent(await deliver(fixture('servicenow/synthetic-change-updated.json')));
    expect(event.type).toBe('dev.changegate.change.updated');
    expect(event.partitionkey).toBe('CHG0010001');
    expect(event.subject).toBe('CHG0010001');
    expect(event.data).toEqual({
      sysId: 'c83c5e5347c12200e0ef563dbb9a7190',
      number: 'CHG0010001',
      state: '-1',
      approval: 'approved',
      correlationId: 'github/acme/api/run-1-production',
      // ServiceNow's value format is kept: the gate compares it as UTC.
      startDate: '2026-11-25 09:00:00',
      endDate: '2026-11-25 11:00:00',
      updatedAt: '2026-11-25 09:00:00',
      // Other fields as sent: null (getValue() of an empty field) is absent, '' stays ''.
      fields: {
        risk: '3',
        u_cab_ok: 'true',
        assignment_group: 'd625dccec0a8016700a222a0f7900d06',
        work_start: '',
      },
      deliveryId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      raw: expect.objectContaining({ truncated: false }) as unknown,
    });
  });

  it('maps incident.updated to record.updated keyed by sys_id, table incident by default', async () => {
    const event = onlyEvent(await deliver(fixture('servicenow/synthetic-incident-updated.json')));
    expect(event.type).toBe('dev.changegate.record.updated');
    expect(event.partitionkey).toBe('9d385017c611228701d22104cc95c371');
    expect(event.subject).toBe('INC0010042');
    expect(event.data).toMatchObject({
      table: 'incident',
      number: 'INC0010042',
      updatedAt: '2026-11-25 09:30:00',
      fields: {
        impact: '2',
        urgency: '2',
        close_code: 'Solved (Permanently)',
        state: '6',
        correlation_id: 'github/acme/api/run-1-production',
      },
    });
  });

  it('maps record.updated of any table and requires the table', async () => {
    const body = {
      type: 'record.updated',
      timestamp: '2026-11-25T09:00:00Z',
      data: { table: 'cmdb_ci_service', sys_id: '0'.repeat(32), name: 'payments', version: 7 },
    };
    const event = onlyEvent(await deliver(body));
    expect(event.data).toMatchObject({
      table: 'cmdb_ci_service',
      fields: { name: 'payments', version: '7' },
    });
    await expect(deliver(setAt(body, ['data', 'table'], undefined))).rejects.toMatchObject({
      reason: 'missing_field:data.table',
    });
  });

  it('answers ping without an event', async () => {
    expect(await deliver(fixture('servicenow/synthetic-ping.json'))).toEqual({ kind: 'ping' });
  });

  it.each([
    [['data', 'sys_id'], 'CHG0010001', 'invalid_field:data.sys_id'],
    [['data', 'sys_id'], undefined, 'missing_field:data.sys_id'],
    [['data', 'number'], null, 'missing_field:data.number'],
    [['data', 'table'], 'incident', 'invalid_field:data.table'],
    [['data', 'start_date'], '2026-11-25T09:00:00Z', 'invalid_field:data.start_date'],
    [['type'], 'change.created', 'invalid_field:type'],
  ])('refuses %j = %j with reason %s', async (path, value, reason) => {
    const body = setAt(fixture('servicenow/synthetic-change-updated.json'), path, value);
    await expect(deliver(body)).rejects.toMatchObject({ name: 'PayloadError', reason });
  });

  it('normalize of any mutation of a valid body yields valid events or a PayloadError', async () => {
    const docs = [
      'servicenow/synthetic-change-updated.json',
      'servicenow/synthetic-incident-updated.json',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...docs).chain((f) => mutatedDocument(fixture(f))),
        (doc) =>
          onlyKnownErrors(() =>
            servicenowReceiver.normalize(
              verifiedRequest(signedRequest(JSON.stringify(doc ?? null)), 'd'),
              ctx,
            ),
          ),
      ),
      { numRuns: 300 },
    );
  });

  it('verify throws only VerificationError for arbitrary bytes and headers', () =>
    assertVerifyFailsCleanly(({ headers, body }) =>
      servicenowReceiver.verify({ headers, body, params: {} }, secrets, VERIFY),
    ));
});
