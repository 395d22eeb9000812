/**
 * Table API: `/api/now/table/{table}` (and `/api/now/v2/table/...`).
 *
 * @module
 */
import { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import { hasAnyRole } from '../auth.js';
import {
  QuerySyntaxError,
  applyQuery,
  parseEncodedQuery,
  pruneQuery,
  type EncodedQuery,
} from '../query.js';
import { knownField, renderTable, valueAt, type DisplayMode } from '../render.js';
import type { SnRecord } from '../types.js';
import {
  badJson,
  canReadRows,
  denyUnlessAllowed,
  fail,
  jsonObject,
  notFound,
  type Ctx,
  type SandboxEnv,
} from './http.js';

// A table's rows include those of every table extending it (cmdb_ci sees cmdb_ci_appl rows,
// task sees change_request rows), rendered with the queried table's columns; rows a read ACL
// hides from the caller are filtered out, not refused.
function rowsOf(ctx: SandboxContext, c: Ctx, table: string): SnRecord[] {
  return ctx.store
    .listFamily(table)
    .filter((r) => canReadRows(c, ctx.readAcls, r.sys_class_name || table));
}

/** `Invalid table <name>`, HTTP 400: what the Table API answers for a table that does not exist. */
function invalidTable(c: Ctx, table: string): Response {
  return fail(c, 400, `Invalid table ${table}`, null);
}

/**
 * The encoded query with terms on unknown fields dropped (or, with
 * `glide.invalid_query.returns_no_rows`, undefined: no rows).
 */
export function tableQuery(
  ctx: SandboxContext,
  table: string,
  encoded: string | undefined,
): EncodedQuery | undefined {
  const parsed = parseEncodedQuery(encoded);
  const { query, invalid } = pruneQuery(parsed, (f) => knownField(ctx, table, f));
  if (invalid.length > 0 && ctx.invalidQueryReturnsNoRows) return undefined;
  return query;
}

/** Only the approver (or an admin) may decide a sysapproval_approver record. */
function approverOnly(
  c: Ctx,
  ctx: SandboxContext,
  table: string,
  sysId: string,
): Response | undefined {
  if (table !== 'sysapproval_approver') return undefined;
  const user = c.get('user');
  if (hasAnyRole(user, ['admin', 'approval_admin'])) return undefined;
  const record = ctx.store.get(table, sysId);
  if (!record || record.approver === ctx.store.userId(user.username)) return undefined;
  return fail(
    c,
    403,
    'Operation Failed',
    'ACL Exception Update Failed due to security constraints',
  );
}

function renderOpts(c: Ctx): {
  display: DisplayMode;
  fields?: string[];
  excludeReferenceLink: boolean;
} {
  const dv = (c.req.query('sysparm_display_value') ?? 'false').toLowerCase();
  const fields = c.req.query('sysparm_fields');
  return {
    display: dv === 'true' || dv === 'all' ? dv : 'false',
    ...(fields
      ? {
          fields: fields
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean),
        }
      : {}),
    excludeReferenceLink: c.req.query('sysparm_exclude_reference_link') === 'true',
  };
}

function linkHeader(c: Ctx, total: number, limit: number, offset: number): string {
  const url = new URL(c.req.url);
  const at = (o: number): string => {
    url.searchParams.set('sysparm_limit', String(limit));
    url.searchParams.set('sysparm_offset', String(o));
    return `<${url.toString()}>`;
  };
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  const parts = [`${at(0)};rel="first"`];
  if (offset > 0) parts.push(`${at(Math.max(0, offset - limit))};rel="prev"`);
  if (offset + limit < total) parts.push(`${at(offset + limit)};rel="next"`);
  parts.push(`${at(last)};rel="last"`);
  return parts.join(',');
}

/** Build the Table API router. */
export function tableRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/:table', (c) => {
    const table = c.req.param('table');
    if (!ctx.store.dictionary.has(table)) return invalidTable(c, table);
    const denied = denyUnlessAllowed(c, table, 'read');
    if (denied) return denied;
    let query;
    try {
      query = tableQuery(ctx, table, c.req.query('sysparm_query'));
    } catch (err) {
      if (err instanceof QuerySyntaxError) return fail(c, 400, 'Invalid query', err.message);
      throw err;
    }
    const hits = query
      ? applyQuery(query, rowsOf(ctx, c, table), (r, f) => valueAt(ctx, table, r, f))
      : [];
    const limit = Math.max(1, Number(c.req.query('sysparm_limit') ?? 10000) || 10000);
    const offset = Math.max(0, Number(c.req.query('sysparm_offset') ?? 0) || 0);
    const page = hits.slice(offset, offset + limit);
    c.header('X-Total-Count', String(hits.length));
    if (c.req.query('sysparm_suppress_pagination_header') !== 'true') {
      c.header('Link', linkHeader(c, hits.length, limit, offset));
    }
    const opts = renderOpts(c);
    return c.json({ result: page.map((r) => renderTable(ctx, table, r, opts)) });
  });

  app.get('/:table/:sys_id', (c) => {
    const table = c.req.param('table');
    if (!ctx.store.dictionary.has(table)) return invalidTable(c, table);
    const denied = denyUnlessAllowed(c, table, 'read');
    if (denied) return denied;
    const record = rowsOf(ctx, c, table).find((r) => r.sys_id === c.req.param('sys_id'));
    if (!record) return notFound(c);
    return c.json({ result: renderTable(ctx, table, record, renderOpts(c)) });
  });

  app.post('/:table', async (c) => {
    const table = c.req.param('table');
    if (!ctx.store.dictionary.has(table)) return invalidTable(c, table);
    const denied = denyUnlessAllowed(c, table, 'insert');
    if (denied) return denied;
    const body = await jsonObject(c);
    if (!body) return badJson(c);
    const result = ctx.store.insert(table, body, c.get('user').username);
    if (!result.ok) return fail(c, 403, 'Operation Failed', result.detail);
    c.header('Location', `${ctx.baseUrl}/api/now/table/${table}/${result.record.sys_id ?? ''}`);
    return c.json({ result: renderTable(ctx, table, result.record, renderOpts(c)) }, 201);
  });

  const update = async (c: Ctx): Promise<Response> => {
    const table = c.req.param('table') ?? '';
    if (!ctx.store.dictionary.has(table)) return invalidTable(c, table);
    const denied =
      denyUnlessAllowed(c, table, 'update') ??
      approverOnly(c, ctx, table, c.req.param('sys_id') ?? '');
    if (denied) return denied;
    const body = await jsonObject(c);
    if (!body) return badJson(c);
    const result = ctx.store.update(
      table,
      c.req.param('sys_id') ?? '',
      body,
      c.get('user').username,
    );
    if (!result) return notFound(c);
    if (!result.ok) return fail(c, 403, 'Operation Failed', result.detail);
    return c.json({ result: renderTable(ctx, table, result.record, renderOpts(c)) });
  };
  app.patch('/:table/:sys_id', update);
  app.put('/:table/:sys_id', update);

  app.delete('/:table/:sys_id', (c) => {
    const table = c.req.param('table');
    if (!ctx.store.dictionary.has(table)) return invalidTable(c, table);
    const denied = denyUnlessAllowed(c, table, 'delete');
    if (denied) return denied;
    if (!ctx.store.delete(table, c.req.param('sys_id'))) return notFound(c);
    return c.body(null, 204);
  });

  return app;
}
