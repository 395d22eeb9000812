import { describe, expect, it } from 'vitest';
import { approversOf } from '../../../src/servicenow/approvals.js';
import {
  parseNextStates,
  requestApproval,
  walkTo,
  type LifecycleClient,
} from '../../../src/servicenow/change-lifecycle.js';
import { ServiceNowError } from '../../../src/servicenow/errors.js';
import type { SnRecord } from '../../../src/servicenow/flatten.js';
import type { TableApi } from '../../../src/servicenow/table.js';

const SYS = 'c83c5e5347c12200e0ef563dbb9a7190';

/** The nextstates answer of the Change Management API for `from` with these transitions. */
function nextStates(from: string, to: Record<string, boolean | string>) {
  return {
    available_states: [from, ...Object.keys(to)],
    state_transitions: Object.entries(to).map(([state, ok]) => [
      {
        from_state: from,
        to_state: state,
        transition_available: ok === true,
        automatic_transition: false,
        conditions:
          typeof ok === 'string'
            ? [{ passed: false, condition: { name: ok, description: ok } }]
            : [],
      },
    ]),
    state_label: {},
  };
}

/**
 * One change under a model given as `from → {to: available}`; `after` lets the "instance" move
 * the CR on by itself after a write (automatic transitions, approval flows).
 */
function fakeInstance(
  record: SnRecord,
  model: Record<string, Record<string, boolean | string>>,
  after: (cr: SnRecord) => void = () => undefined,
) {
  const cr = { ...record };
  const writes: Record<string, string>[] = [];
  const client = {
    change: {
      nextStates: async () => nextStates(cr.state!, model[cr.state!] ?? {}),
    },
    table: {
      patch: async (_t: string, _id: string, fields: Record<string, string>) => {
        writes.push(fields);
        const allowed = model[cr.state!]?.[fields.state ?? ''];
        if (fields.state && allowed !== true) {
          throw new ServiceNowError({
            kind: 'forbidden',
            instance: 'test',
            endpoint: 'PATCH /api/now/table/change_request/{sys_id}',
            status: 403,
            snMessage: 'Invalid state transition',
            fix: 'n/a',
          });
        }
        Object.assign(cr, fields);
        after(cr);
        return { ...cr };
      },
      get: async () => ({ ...cr }),
    },
  } as unknown as LifecycleClient;
  return { client, cr, writes };
}

const NORMAL = {
  '-5': { '-4': true, '4': true },
  '-4': { '-3': true, '-5': true, '4': true },
  '-3': { '-2': 'Change approved' },
  '-2': { '-1': true },
  '-1': { '0': true },
  '0': { '3': true },
};

describe('walking a change along the transitions the instance offers', () => {
  it('parses nextstates, failed conditions making a transition unavailable', () => {
    const parsed = parseNextStates(nextStates('-3', { '-2': 'Change approved', '4': true }));
    expect(parsed.sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      { to: '-2', available: false, failed: ['Change approved'] },
      { to: '4', available: true, failed: [] },
    ]);
  });

  it('closes from Implement through Review, close data on the last hop only', async () => {
    const { client, writes } = fakeInstance({ sys_id: SYS, state: '-1' }, NORMAL);
    const result = await walkTo(client, { sys_id: SYS, state: '-1' }, '3', {
      fieldsFor: (to) => (to === '3' ? { close_code: 'successful' } : undefined),
    });
    expect(result.outcome).toBe('reached');
    expect(writes).toEqual([{ state: '0' }, { state: '3', close_code: 'successful' }]);
  });

  it('treats a CR the instance already moved past the target as done, writing nothing', async () => {
    const { client, writes } = fakeInstance({ sys_id: SYS, state: '0' }, NORMAL);
    const result = await walkTo(client, { sys_id: SYS, state: '0' }, '-1');
    expect(result.outcome).toBe('passed');
    expect(writes).toEqual([]);
  });

  it('stops at a pending approval instead of failing', async () => {
    const { client } = fakeInstance({ sys_id: SYS, state: '-3' }, NORMAL);
    const result = await walkTo(client, { sys_id: SYS, state: '-3' }, '-1');
    expect(result.outcome).toBe('blocked');
    expect(result.detail).toContain('Change approved');
  });

  it('requests approval and stops where the instance asks for it (Assess on a real normal change)', async () => {
    const { client, writes } = fakeInstance({ sys_id: SYS, state: '-5' }, NORMAL, (cr) => {
      if (cr.state === '-4') cr.approval = 'requested';
    });
    const result = await requestApproval(client, {
      sys_id: SYS,
      state: '-5',
      approval: 'not requested',
    });
    expect(result.outcome).toBe('stopped');
    expect(result.cr.state).toBe('-4');
    expect(writes).toEqual([{ state: '-4' }]);
  });

  it('follows an automatic transition the instance made after a write', async () => {
    const { client, writes } = fakeInstance({ sys_id: SYS, state: '-5' }, NORMAL, (cr) => {
      if (cr.state === '-4') cr.state = '-3';
    });
    const result = await walkTo(client, { sys_id: SYS, state: '-5' }, '-3');
    expect(result.outcome).toBe('reached');
    expect(writes).toEqual([{ state: '-4' }]);
  });

  it('reports a refused write as blocked when the state did not move', async () => {
    const refusing = { ...NORMAL, '-2': { '-1': true } };
    const { client } = fakeInstance({ sys_id: SYS, state: '-2' }, refusing);
    // The instance lists Implement but its business rule refuses the write.
    (client.table as unknown as { patch: unknown }).patch = async () => {
      throw new ServiceNowError({
        kind: 'forbidden',
        instance: 'test',
        endpoint: 'PATCH',
        status: 403,
        snMessage: 'Operation against file change_request was aborted by Business Rule',
        fix: 'n/a',
      });
    };
    const result = await walkTo(client, { sys_id: SYS, state: '-2' }, '-1');
    expect(result.outcome).toBe('blocked');
    expect(result.detail).toContain('aborted by Business Rule');
  });

  it('ends on a canceled change', async () => {
    const { client } = fakeInstance({ sys_id: SYS, state: '4' }, NORMAL);
    expect((await walkTo(client, { sys_id: SYS, state: '4' }, '3')).outcome).toBe('ended');
  });
});

describe('who approved a change', () => {
  const U1 = 'a8f98bb0eb32010045e1a5115206fe3a';
  const U2 = '46d44a5ea9fe198100f4fc1a09b20e5b';
  const table = (rows: Record<string, SnRecord[]>) => {
    const queries: string[] = [];
    return {
      queries,
      api: {
        query: async (t: string, o?: { query?: string }) => {
          queries.push(`${t}?${o?.query ?? ''}`);
          return rows[t] ?? [];
        },
      } as unknown as TableApi,
    };
  };

  it('reads the approved approval records of the CR, then their users, once each', async () => {
    const { api, queries } = table({
      sysapproval_approver: [
        { sys_id: '1', approver: U1, state: 'approved', sys_updated_on: '2026-12-01 09:00:00' },
        { sys_id: '2', approver: U2, state: 'approved', sys_updated_on: '2026-12-01 09:05:00' },
        { sys_id: '3', approver: U1, state: 'approved', sys_updated_on: '2026-12-01 09:06:00' },
      ],
      sys_user: [
        {
          sys_id: U1,
          user_name: 'abel.tuter',
          name: 'Abel Tuter',
          email: 'abel.tuter@example.com',
        },
      ],
    });
    expect(await approversOf(api, SYS)).toEqual([
      {
        sysId: U1,
        userName: 'abel.tuter',
        name: 'Abel Tuter',
        email: 'abel.tuter@example.com',
        approvedAt: '2026-12-01 09:00:00',
      },
      { sysId: U2, approvedAt: '2026-12-01 09:05:00' },
    ]);
    expect(queries).toEqual([
      `sysapproval_approver?sysapproval=${SYS}^state=approved^ORDERBYsys_updated_on`,
      `sys_user?sys_idIN${U1},${U2}`,
    ]);
  });

  it('asks nothing for a CR with no approver (a standard change)', async () => {
    const { api, queries } = table({});
    expect(await approversOf(api, SYS)).toEqual([]);
    expect(queries).toHaveLength(1);
  });
});
