import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../../../src/errors.js';
import { buildEvent } from '../../../../src/events/build.js';
import type { CloudEvent } from '../../../../src/events/envelope.js';
import { eventRouter } from '../../../../src/workers/runtime/index.js';

const at = { id: 'e-1', source: '/test', time: new Date('2026-12-01T12:00:00Z') };

const changeUpdated = (data: Record<string, unknown>): CloudEvent => ({
  ...buildEvent(
    {
      type: 'dev.changegate.change.updated',
      subject: 'CHG0001',
      key: 'CHG0001',
      data: {
        sysId: 'a'.repeat(32),
        number: 'CHG0001',
        state: '-2',
        fields: {},
        deliveryId: 'd-1',
        raw: { truncated: false, bytes: 0, payload: null },
      },
    },
    at,
  ),
  ...(Object.keys(data).length > 0 ? { data } : {}),
});

describe('event router', () => {
  it('hands a handler its event with the data parsed by the type schema', async () => {
    const seen: string[] = [];
    const router = eventRouter<string>().on('dev.changegate.change.updated', async (event, ctx) => {
      // Typed by registration: `number` exists on ChangeUpdatedData.
      seen.push(`${ctx}:${event.data.number}:${event.data.state}`);
    });
    await router.route(changeUpdated({}), 'ctx');
    expect(seen).toEqual(['ctx:CHG0001:-2']);
  });

  it('routes nothing for a type without a handler, and an unknown type', () => {
    const router = eventRouter<void>().on('dev.changegate.gate.released', async () => undefined);
    expect(router.route(changeUpdated({}), undefined)).toBeUndefined();
    expect(router.route({ ...changeUpdated({}), type: 'com.example.other' }, undefined)).toBe(
      undefined,
    );
  });

  it('refuses data that does not match its type with the path that is wrong', () => {
    const router = eventRouter<void>().on('dev.changegate.change.updated', async () => undefined);
    const bad = changeUpdated({ sysId: 'x', number: 42 });
    expect(() => router.route(bad, undefined)).toThrow(PayloadError);
    expect(() => router.route(bad, undefined)).toThrow(/change\.updated e-1: number: /);
  });

  it('skips data that does not match when told to (an observer of others’ events)', () => {
    const router = eventRouter<void>({ invalid: 'skip' }).on(
      'dev.changegate.change.updated',
      async () => undefined,
    );
    expect(router.route(changeUpdated({ number: 42 }), undefined)).toBeUndefined();
  });

  it('takes one handler for several types and refuses a second handler for one', async () => {
    const types: string[] = [];
    const router = eventRouter<void>().on(
      ['dev.changegate.gate.released', 'dev.changegate.gate.rejected'],
      async (event) => {
        types.push(event.type);
      },
    );
    expect(router.types()).toEqual([
      'dev.changegate.gate.released',
      'dev.changegate.gate.rejected',
    ]);
    expect(() => router.on('dev.changegate.gate.rejected', async () => undefined)).toThrow(
      /has a handler already/,
    );
  });
});
