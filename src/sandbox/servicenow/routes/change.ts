/**
 * Change Management API (`sn_chg_rest`): create normal/emergency/standard changes, read, update,
 * next states and approvals. Every field is returned as `{value, display_value}`
 * (datetimes add `display_value_internal`), as the API reference shows.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { decideAs } from '../actions.js';
import {
  AUTOMATIC,
  STATE_LABELS,
  allowedNextStates,
  approvalStage,
  changeTypeOf,
  type ChangeType,
} from '../change-model.js';
import type { SandboxContext } from '../context.js';
import { QuerySyntaxError, applyQuery } from '../query.js';
import { renderChange } from '../render.js';
import { tableQuery } from './table.js';
import { hasAnyRole } from '../auth.js';
import type { SnRecord } from '../types.js';
import { badJson, fail, jsonObject, notFound, type Ctx, type SandboxEnv } from './http.js';

const READ_ROLES = ['change_manager', 'itil', 'sn_change_read'];
const WRITE_ROLES = ['change_manager', 'itil'];
const TYPES = new Set(['normal', 'standard', 'emergency']);

/**
 * Fields a standard change template never lets a request change (Change Management API,
 * POST /sn_chg_rest/change/standard/{standard_change_template_id}): these, read-only fields,
 * and "fields that do not exist in the specified standard change template" are ignored.
 */
const TEMPLATE_LOCKED = new Set([
  'description',
  'backout_plan',
  'test_plan',
  'implementation_plan',
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

/**
 * Body fields override query parameters, as the API reference says. Unknown and read-only
 * fields are left for the store to ignore and report (`__meta.ignoredFields`).
 */
async function requestFields(c: Ctx): Promise<Record<string, unknown> | undefined> {
  const body = await jsonObject(c);
  if (!body) return undefined;
  const merged: Record<string, unknown> = { ...c.req.query(), ...body };
  for (const key of Object.keys(merged)) {
    if (key.startsWith('sysparm_') || key === 'encrypted_fields') delete merged[key];
  }
  return merged;
}

function templateFields(template: SnRecord): SnRecord {
  const fields: SnRecord = {};
  for (const pair of (template.template ?? '').split('^')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return fields;
}

/** A stable stand-in for an sttrm_state_transition / sttrm_condition sys_id. */
function transitionId(...parts: string[]): string {
  return createHash('md5').update(parts.join(':')).digest('hex');
}

/**
 * `GET /change/{sys_id}/nextstates`, shaped like the API reference's example
 * (change-management-api.md, GET /sn_chg_rest/change/{sys_id}/nextstates): `available_states`
 * = the states a transition is available to, then the current one; `state_transitions` = one
 * array per to-state, one object per transition (`display_value` "Assess to Authorize",
 * `conditions[{passed, condition{name, description, sys_id}}]`); `state_label` for the
 * available states. The approval-driven move is `automatic_transition: true` and unavailable
 * until its stage is approved (then the engine makes it at once, so it is never shown passed).
 */
function nextStates(record: SnRecord): Record<string, unknown> {
  const type = changeTypeOf(record.type);
  const current = record.state ?? '-5';
  const manual = allowedNextStates(type, current);
  const automatic = AUTOMATIC[type][current];
  const stage = approvalStage(type, current);
  const label = (s: string): string => STATE_LABELS[s] ?? s;
  const transition = (to: string, auto: boolean, conditions: unknown[]) => ({
    sys_id: transitionId(type, current, to, String(auto)),
    display_value: `${label(current)} to ${label(to)}`,
    from_state: current,
    to_state: to,
    transition_available: !auto,
    automatic_transition: auto,
    conditions,
  });
  const transitions = manual.map((to) => [transition(to, false, [])]);
  if (automatic && stage) {
    const name = `${stage === 'cab' ? 'CAB' : 'Technical'} approvals approved`;
    transitions.push([
      transition(automatic, true, [
        {
          passed: false,
          condition: { name, description: null, sys_id: transitionId('condition', name) },
        },
      ]),
    ]);
  }
  const available = [...manual, current];
  return {
    available_states: available,
    state_transitions: transitions,
    state_label: Object.fromEntries(available.map((s) => [s, label(s)])),
  };
}

/** Build the sn_chg_rest router (mount at `/api/sn_chg_rest` and `/api/sn_chg_rest/v1`). */
export function changeRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  const render = (record: SnRecord): Record<string, unknown> => renderChange(ctx, record);

  const create = async (
    c: Ctx,
    type: ChangeType,
    template?: { fields: SnRecord; version: string },
  ): Promise<Response> => {
    const denied = roleGuard(c, WRITE_ROLES);
    if (denied) return denied;
    const req = await requestFields(c);
    if (!req) return badJson(c);
    const ignored: string[] = [];
    if ('type' in req) {
      delete req.type;
      ignored.push('type');
    }
    if (template) {
      // Only fields the template sets, and not its locked plans, may be given a new value.
      for (const key of Object.keys(req)) {
        if (!(key in template.fields) || TEMPLATE_LOCKED.has(key)) {
          delete req[key];
          ignored.push(key);
        }
      }
    }
    const model = ctx.store
      .list('chg_model')
      .find((m) => m.record_preset === `type=${type}^EQ`)?.sys_id;
    const result = ctx.store.insert(
      'change_request',
      {
        ...(template?.fields ?? {}),
        ...req,
        type,
        ...(model ? { chg_model: model } : {}),
        ...(template ? { std_change_producer_version: template.version } : {}),
      },
      c.get('user').username,
    );
    if (!result.ok) return fail(c, 400, 'Operation Failed', result.detail);
    return c.json({
      result: {
        ...render(result.record),
        __meta: { ignoredFields: [...ignored, ...result.ignored] },
      },
    });
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
      fields: templateFields(template),
      version: template.current_version || '',
    });
  });

  const list = (c: Ctx, type?: string): Response => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    let query;
    try {
      query = tableQuery(ctx, 'change_request', c.req.query('sysparm_query'));
    } catch (err) {
      if (err instanceof QuerySyntaxError) return fail(c, 400, 'Invalid query', err.message);
      throw err;
    }
    const rows = ctx.store.list('change_request').filter((r) => !type || r.type === type);
    const hits = query ? applyQuery(query, rows) : [];
    const limit = Math.max(1, Number(c.req.query('sysparm_limit') ?? 500) || 500);
    const offset = Math.max(0, Number(c.req.query('sysparm_offset') ?? 0) || 0);
    c.header('X-Total-Count', String(hits.length));
    return c.json({ result: hits.slice(offset, offset + limit).map(render) });
  };

  app.get('/change', (c) => list(c));
  app.get('/change/standard/template', (c) => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const query = tableQuery(ctx, 'std_change_record_producer', c.req.query('sysparm_query'));
    const rows = query ? applyQuery(query, ctx.store.list('std_change_record_producer')) : [];
    return c.json({
      result: rows.map((r) => renderChange(ctx, r, 'std_change_record_producer')),
    });
  });

  // Change models (GET /sn_chg_rest/change/model, /change/model/{sys_id}).
  app.get('/change/model', (c) => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const query = tableQuery(ctx, 'chg_model', c.req.query('sysparm_query'));
    const rows = query ? applyQuery(query, ctx.store.list('chg_model')) : [];
    return c.json({ result: rows.map((r) => renderChange(ctx, r, 'chg_model')) });
  });
  app.get('/change/model/:sys_id', (c) => {
    const denied = roleGuard(c, READ_ROLES);
    if (denied) return denied;
    const model = ctx.store.get('chg_model', c.req.param('sys_id'));
    return model ? c.json({ result: renderChange(ctx, model, 'chg_model') }) : notFound(c);
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
    return c.json({ result: nextStates(record) });
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
    // "Allows the current user to approve or reject a change request approval record": only a
    // pending record of the caller counts; anyone else gets 400 ("the user not having the
    // authority to approve or reject the change request"). The message wording is ours.
    const result = decideAs(ctx, record, c.get('user').username, state, comments);
    if (!result.ok) return fail(c, 400, 'Bad Request', result.detail);
    return c.json({ result: render(result.change) });
  });

  const patch = async (c: Ctx, type?: string): Promise<Response> => {
    const denied = roleGuard(c, WRITE_ROLES);
    if (denied) return denied;
    const record = one(c, type);
    if (!record) return notFound(c);
    const req = await requestFields(c);
    if (!req) return badJson(c);
    delete req.sys_id;
    const result = ctx.store.update(
      'change_request',
      record.sys_id ?? '',
      req,
      c.get('user').username,
    );
    if (!result) return notFound(c);
    if (!result.ok) return fail(c, 403, 'Operation Failed', result.detail);
    return c.json({
      result: { ...render(result.record), __meta: { ignoredFields: result.ignored } },
    });
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
