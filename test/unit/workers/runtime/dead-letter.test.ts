import { describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../../src/bus/port.js';
import { PayloadError } from '../../../../src/errors.js';
import {
  DeadLetterHeadersSchema,
  deadLetterRecord,
  readDeadLetter,
  withoutDeadLetterHeaders,
} from '../../../../src/workers/runtime/index.js';

const original: ConsumedRecord = {
  topic: 'changegate.cicd.events',
  partition: 2,
  offset: '41',
  key: 'github/acme/app/production/7',
  value: Buffer.from('{"x":1}'),
  headers: { ce_type: 'dev.changegate.deployment.requested', ce_id: 'e-7' },
  timestamp: 0,
};

describe('dead letters', () => {
  it('keep the original key, value and headers and say where from, who and why', () => {
    const error = new PayloadError('schema_mismatch', 'environment: expected string');
    const at = new Date('2026-12-01T12:00:00Z');
    const letter = deadLetterRecord('changegate.dlq', 'change', original, error, 1, at);
    expect(letter).toMatchObject({
      topic: 'changegate.dlq',
      key: original.key,
      value: original.value,
    });
    expect(DeadLetterHeadersSchema.safeParse(letter.headers).success).toBe(true);
    expect(readDeadLetter(letter.headers)).toEqual({
      originTopic: 'changegate.cicd.events',
      originPartition: 2,
      originOffset: '41',
      worker: 'change',
      error: 'environment: expected string',
      errorName: 'PayloadError',
      attempts: 1,
      deadLetteredAt: '2026-12-01T12:00:00.000Z',
    });
    expect(withoutDeadLetterHeaders(letter.headers)).toEqual(original.headers);
  });

  it('cut an error message at 2000 characters', () => {
    const letter = deadLetterRecord('dlq', 'gate', original, new Error('x'.repeat(5000)), 5);
    expect(letter.headers['changegate-error']).toHaveLength(2000);
  });

  it('are not read from headers someone else wrote', () => {
    expect(readDeadLetter({ 'changegate-worker': 'change' })).toBeUndefined();
  });
});
