import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXTRA_FIELDS,
  KNOWN_FIELDS,
  TRIGGER_FIELDS,
  outboundBody,
  ruleFires,
} from '../../../../src/sandbox/servicenow/business-rules.js';

const kit = join(import.meta.dirname, '../../../../deploy/servicenow');

/** The install kit's Script Include, evaluated as ServiceNow would (ES5, no imports). */
function kitOutbound(): { KNOWN_FIELDS: string[]; DEFAULT_EXTRA_FIELDS: Record<string, string> } {
  const context: Record<string, unknown> = {};
  runInNewContext(
    `${readFileSync(join(kit, 'sign.js'), 'utf8')}\nthis.out = ChangegateOutbound;`,
    context,
  );
  return context.out as { KNOWN_FIELDS: string[]; DEFAULT_EXTRA_FIELDS: Record<string, string> };
}

/** `current.<field>.changes()` terms of a business rule's Condition (business-rules/*.js). */
function conditionTriggers(file: string): string[] {
  const script = readFileSync(join(kit, 'business-rules', file), 'utf8');
  const condition = script.split('\n').find((l) => l.includes('current.correlation_id')) ?? '';
  expect(condition).toContain('!current.correlation_id.nil()');
  return [...condition.matchAll(/current\.(\w+)\.changes\(\)/g)].map((m) => m[1]!);
}

const CHANGE = {
  sys_id: 'c83c5e5347c12200e0ef563dbb9a7190',
  number: 'CHG0010001',
  state: '-4',
  approval: 'requested',
  correlation_id: 'github/acme/api/run-1-production',
  start_date: '',
  end_date: '',
  sys_updated_on: '2026-11-25 08:59:58',
  sys_mod_count: '1',
  type: 'normal',
  risk: '3',
  short_description: 'not a listed field',
};

describe('sandbox business rules follow the install kit', () => {
  it('sends the fields sign.js sends, in its order', () => {
    const ours = kitOutbound();
    expect([...KNOWN_FIELDS]).toEqual(ours.KNOWN_FIELDS);
    for (const table of ['change_request', 'incident']) {
      expect(DEFAULT_EXTRA_FIELDS[table]).toEqual(ours.DEFAULT_EXTRA_FIELDS[table]!.split(','));
    }
  });

  it('fires on the fields the rule conditions name', () => {
    expect(TRIGGER_FIELDS.change_request).toEqual(conditionTriggers('change-request.js'));
    expect(TRIGGER_FIELDS.incident).toEqual(conditionTriggers('incident.js'));
  });

  it('sends only listed fields, null for empty ones', () => {
    const data = (
      JSON.parse(outboundBody('change_request', CHANGE, new Date(0))) as {
        data: Record<string, unknown>;
      }
    ).data;
    expect(Object.keys(data)).toEqual([
      'table',
      'sys_id',
      ...KNOWN_FIELDS,
      ...DEFAULT_EXTRA_FIELDS.change_request!,
    ]);
    expect(data).toMatchObject({ start_date: null, end_date: null, cmdb_ci: null, risk: '3' });
    expect(data).not.toHaveProperty('short_description');
  });

  it('fires only for records with a correlation_id, on insert or a trigger field change', () => {
    expect(ruleFires('change_request', CHANGE, undefined)).toBe(true);
    expect(ruleFires('change_request', { ...CHANGE, correlation_id: '' }, undefined)).toBe(false);
    expect(ruleFires('change_request', CHANGE, { ...CHANGE, short_description: 'x' })).toBe(false);
    expect(ruleFires('change_request', CHANGE, { ...CHANGE, state: '-5' })).toBe(true);
    expect(ruleFires('change_request', CHANGE, { ...CHANGE, approval: 'not requested' })).toBe(
      true,
    );
    expect(ruleFires('incident', { ...CHANGE, priority: '2' }, { ...CHANGE, priority: '3' })).toBe(
      true,
    );
    expect(ruleFires('sys_user', CHANGE, undefined)).toBe(false);
  });
});
