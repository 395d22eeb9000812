import { describe, expect, it } from 'vitest';
import { fromRecord, toRecord } from '../../../src/bus/cloudevents.js';
import type { CloudEvent } from '../../../src/events/envelope.js';

const event: CloudEvent = {
  specversion: '1.0',
  id: 'd-1',
  source: '/changegate/github',
  type: 'dev.changegate.deployment.requested',
  subject: 'github/acme/api/run-1-production',
  time: '2026-11-25T09:00:00.000Z',
  datacontenttype: 'application/json',
  partitionkey: 'github/acme/api/run-1-production',
  data: { hello: 'world' },
};

describe('CloudEvents Kafka binding', () => {
  it('writes binary mode: data as value, attributes as ce_ headers, key from partitionkey', () => {
    const record = toRecord('changegate.cicd.events', event);
    expect(record.key).toBe('github/acme/api/run-1-production');
    expect(record.headers['content-type']).toBe('application/json');
    expect(record.headers.ce_specversion).toBe('1.0');
    expect(record.headers.ce_id).toBe('d-1');
    expect(record.headers.ce_type).toBe('dev.changegate.deployment.requested');
    expect(record.headers.ce_partitionkey).toBe('github/acme/api/run-1-production');
    expect(record.headers.ce_data).toBeUndefined();
    expect(JSON.parse(record.value!.toString())).toEqual({ hello: 'world' });
  });

  it('reads back the same event from binary mode', () => {
    expect(fromRecord(toRecord('t', event))).toEqual(event);
  });

  it('reads structured mode too', () => {
    const record = {
      headers: { 'content-type': 'application/cloudevents+json; charset=UTF-8' },
      value: Buffer.from(JSON.stringify(event)),
    };
    expect(fromRecord(record)).toEqual(event);
  });

  it('refuses a record that is not a CloudEvent', () => {
    expect(() => fromRecord({ headers: {}, value: Buffer.from('{}') })).toThrow();
  });
});
