/**
 * Change Management API (`sn_chg_rest`): create normal/emergency/standard changes, read, update,
 * next states and approvals. Every field is returned as `{value, display_value}`
 * (datetimes add `display_value_internal`), as the API reference shows.
 *
 * @module
 */
import { Hono } from 'hono';
import { decideApproval } from '../actions.js';
import { STATE_LABELS, allowedNextStates, changeTypeOf, type ChangeType } from '../change-model.js';
import type { SandboxContext } from '../context.js';
import { QuerySyntaxError, applyQuery, parseEncodedQuery } from '../query.js';
import { renderChange } from '../render.js';
import { hasAnyRole } from '../auth.js';
import type { SnRecord } from '../types.js';
import { badJson, fail, jsonObject, notFound, type Ctx, type SandboxEnv } from './http.js';

const READ_ROLES = ['change_manager', 'itil', 'sn_change_read'];
const WRITE_ROLES = ['change_manager', 'itil'];
const TYPES = new Set(['normal', 'standard', 'emergency']);

/** Fields of change_request the API applies; anything else is reported in __meta.ignoredFields. */
const CHANGE_FIELDS = new Set([
  'short_description',
  'description',
  'assignment_group',
  'assigned_to',
  'cmdb_ci',
  'business_service',
  'service_offering',
  'start_date',
  'end_date',
  'correlation_id',
  'correlation_display',
  'category',
  'priority',
  'risk',
  'impact',
  'urgency',
  'justification',
  'implementation_plan',
  'backout_plan',
  'test_plan',
  'risk_impact_analysis',
  'change_plan',
  'requested_by',
  'requested_by_date',
  'reason',
  'state',
  'close_code',
  'close_notes',
  'work_notes',
  'comments',
  'on_hold',
  'on_hold_reason',
  'location',
  'company',
  'contact_type',
  'parent',
  'phase',
  'production_system',
  'scope',
  'work_start',
  'work_end',
  'cab_required',
  'cab_date',
  'review_comments',
  'watch_list',
  'approval',
  'type',
]);

function roleGuard(c: Ctx, roles: string[]): Response | undefined {
  if (hasAnyRole(c.get('user'), roles)) return undefined;
  return fail(
    c,
    403,
    'User Not Authorized',
    `User ${c.get('user').username} requires one of the roles: ${roles.join(', ')}`,
  );
}

/** Body fields override query parameters, as the API reference says. */
async function requestFields(c: Ctx): Promise<{ fields: SnRecord; ignored: string[] } | undefined> {
  const body = await jsonObject(c);
  if (!body) return undefined;
  const merged: Record<string, unknown> = { ...c.req.query(), ...body };
  const fields: SnRecord = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(merged)) {
    if (key.startsWith('sysparm_') || key === 'encrypted_fields') continue;
    if (CHANGE_FIELDS.has(key) || key.startsWith('u_'))
      fields[key] = value == null ? '' : String(value);
    else ignored.push(key);
  }
  return { fields, ignored };
}

function templateFields(template: SnRecord): SnRecord {
  const fields: SnRecord = {};
  for (const pair of (template.template ?? '').split('^')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return fields;
}

/** Build the sn_chg_rest router (mount at `/api/sn_chg_rest` and `/api/sn_chg_rest/v1`). */
export function changeRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  const render = (record: SnRecord): Record<string, unknown> => renderChange(ctx, record);

  const create = async (c: Ctx, type: ChangeType, base: SnRecord = {}): Promise<Response> => {
    const denied = roleGuard(c, WRITE_ROLES);
    if (denied) return denied;
    const req = await requestFields(c);
    if (!req) return badJson(c);
    delete req.fields.type;
    const result = ctx.store.insert(
      'change_request',
      { ...base, ...req.fields, type },
      c.get('user').username,
    );
    if (!result.ok) return fail(c, 400, 'Operation Failed', result.detail);
    return c.json({ result: { ...render(result.record), __meta: { ignoredFields: req.ignored } } });
  };

  app.post('/change/normal', (c) => create(c, 'normal'));
  app.post('/change/emergency', (c) => create(c, 'emergency'));
  app.post('/change/standard/:template', (c) => {
    const template = ctx.store.get('std_change_record_producer', c.req.param('template'));
    if (!template || template.active === 'false') {
      return fail(
        c,
        404,
        'Not Found',
        `Standard change template ${c.req.param('template')} not found or inactive`,
      );
    }
    return create(c, 'standard', {
      ...templateFields(template),
      std_change_producer_version: template.sys_id ?? '',
    });
  });

  const list = (c: Ctx, type?: string): Response => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    let query;
    try {
      query = parseEncodedQuery(c.req.query('sysparm_query'));
    } catch (err) {
      if (err instanceof QuerySyntaxError) return fail(c, 400, 'Invalid query', err.message);
      throw err;
    }
    const rows = ctx.store.list('change_request').filter((r) => !type || r.type === type);
    const hits = applyQuery(query, rows);
    const limit = Math.max(1, Number(c.req.query('sysparm_limit') ?? 500) || 500);
    const offset = Math.max(0, Number(c.req.query('sysparm_offset') ?? 0) || 0);
    c.header('X-Total-Count', String(hits.length));
    return c.json({ result: hits.slice(offset, offset + limit).map(render) });
  };

  app.get('/change', (c) => list(c));
  app.get('/change/standard/template', (c) => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const rows = applyQuery(
      parseEncodedQuery(c.req.query('sysparm_query')),
      ctx.store.list('std_change_record_producer'),
    );
    return c.json({ result: rows.map(render) });
  });

  const one = (c: Ctx, type?: string): SnRecord | undefined => {
    const record = ctx.store.get('change_request', c.req.param('sys_id') ?? '');
    return record && (!type || record.type === type) ? record : undefined;
  };

  app.get('/change/:sys_id/nextstates', (c) => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const record = one(c);
    if (!record) return notFound(c);
    const current = record.state ?? '-5';
    const next = allowedNextStates(changeTypeOf(record.type), current);
    const available = [current, ...next];
    return c.json({
      result: {
        available_states: available,
        state_transitions: next.map((to) => [
          {
            automatic_transition: false,
            conditions: [],
            display_value: STATE_LABELS[to] ?? to,
            from_state: current,
            sys_id: '',
            to_state: to,
            transition_available: true,
          },
        ]),
        state_label: Object.fromEntries(available.map((s) => [s, STATE_LABELS[s] ?? s])),
      },
    });
  });

  app.get('/change/:sys_id', (c) => {
    const id = c.req.param('sys_id');
    if (TYPES.has(id)) return list(c, id);
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const record = one(c);
    return record ? c.json({ result: render(record) }) : notFound(c);
  });
  app.get('/change/:type/:sys_id', (c) => {
    if (!TYPES.has(c.req.param('type'))) return notFound(c);
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const record = one(c, c.req.param('type'));
    return record ? c.json({ result: render(record) }) : notFound(c);
  });

  app.patch('/change/:sys_id/approvals', async (c) => {
    const denied = roleGuard(c, WRITE_ROLES);
    if (denied) return denied;
    const record = one(c);
    if (!record) return notFound(c);
    const body = await jsonObject(c);
    if (!body) return badJson(c);
    const state = String(body.state ?? '');
    const comments = body.comments === undefined ? undefined : String(body.comments);
    if (state !== 'approved' && state !== 'rejected') {
      return fail(c, 400, 'Bad Request', 'state must be one of: approved, rejected');
    }
    if (state === 'rejected' && !comments) {
      return fail(c, 400, 'Bad Request', 'comments are required when rejecting a change request');
    }
    if (record.approval !== 'requested') {
      return fail(
        c,
        400,
        'Bad Request',
        `No pending approval for user ${c.get('user').username} on ${record.number ?? ''}`,
      );
    }
    const result = decideApproval(ctx, record, state, comments, c.get('user').username);
    if (!result.ok) return fail(c, 400, 'Bad Request', result.detail);
    return c.json({ result: render(result.record) });
  });

  const patch = async (c: Ctx, type?: string): Promise<Response> => {
    const denied = roleGuard(c, WRITE_ROLES);
    if (denied) return denied;
    const record = one(c, type);
    if (!record) return notFound(c);
    const req = await requestFields(c);
    if (!req) return badJson(c);
    const result = ctx.store.update(
      'change_request',
      record.sys_id ?? '',
      req.fields,
      c.get('user').username,
    );
    if (!result) return notFound(c);
    if (!result.ok) return fail(c, 403, 'Operation Failed', result.detail);
    return c.json({ result: render(result.record) });
  };
  app.patch('/change/:type/:sys_id', (c) =>
    TYPES.has(c.req.param('type')) ? patch(c, c.req.param('type')) : notFound(c),
  );
  app.patch('/change/:sys_id', (c) => patch(c));

  app.delete('/change/:sys_id', (c) => {
    const denied = roleGuard(c, ['change_manager']);
    if (denied) return denied;
    const record = one(c);
    if (!record) return notFound(c);
    ctx.store.delete('change_request', record.sys_id ?? '');
    return c.json({ result: render(record) });
  });

  return app;
}
