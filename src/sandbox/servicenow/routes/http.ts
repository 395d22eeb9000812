/**
 * Shared Hono types and error helpers for the sandbox routes.
 *
 * @module
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { hasAnyRole } from '../auth.js';
import type { SandboxUser } from '../types.js';
import { snError } from '../util.js';

export type SandboxEnv = { Bindings: HttpBindings; Variables: { user: SandboxUser } };
export type Ctx = Context<SandboxEnv>;

/** Answer with the platform error envelope. */
export function fail(
  c: Ctx,
  status: ContentfulStatusCode,
  message: string,
  detail: string | null,
): Response {
  return c.json(snError(message, detail), status);
}

export function notFound(c: Ctx): Response {
  return fail(
    c,
    404,
    'No Record found',
    "Record doesn't exist or ACL restricts the record retrieval",
  );
}

/** Roles needed per table and operation; tables not listed are open to any authenticated user. */
const TABLE_ROLES: Readonly<Record<string, { read: string[]; write: string[] }>> = {
  change_request: {
    read: ['itil', 'change_manager', 'sn_change_read'],
    write: ['itil', 'change_manager'],
  },
  change_task: {
    read: ['itil', 'change_manager', 'sn_change_read'],
    write: ['itil', 'change_manager'],
  },
  incident: { read: ['itil'], write: ['itil'] },
};

function rolesFor(table: string): { read: string[]; write: string[] } | undefined {
  if (TABLE_ROLES[table]) return TABLE_ROLES[table];
  if (table.startsWith('cmdb_'))
    return { read: ['itil', 'cmdb_read'], write: ['itil', 'import_transformer'] };
  return undefined;
}

const ACL_DETAIL: Readonly<Record<'read' | 'insert' | 'update' | 'delete', string>> = {
  read: 'Insufficient rights to query records',
  insert: 'ACL Exception Insert Failed due to security constraints',
  update: 'ACL Exception Update Failed due to security constraints',
  delete: 'ACL Exception Delete Failed due to security constraints',
};

/** A 403 with the platform's ACL wording when the caller lacks the table's roles, else undefined. */
export function denyUnlessAllowed(
  c: Ctx,
  table: string,
  operation: 'read' | 'insert' | 'update' | 'delete',
): Response | undefined {
  const roles = rolesFor(table);
  if (!roles) return undefined;
  const needed = operation === 'read' ? roles.read : roles.write;
  if (hasAnyRole(c.get('user'), needed)) return undefined;
  if (operation === 'read') {
    return fail(
      c,
      403,
      ACL_DETAIL.read,
      'Fields present in the query do not have permission to be read',
    );
  }
  return fail(c, 403, 'Operation Failed', ACL_DETAIL[operation]);
}

/**
 * Tables whose rows a base instance shows only to some roles. sys_journal_field: journal
 * entries are not readable through the Table API without an ACL granting it (issue #14; the
 * row filtering, rather than a 403, is how query ACLs behave). Unverified which base roles pass.
 */
export const DEFAULT_READ_ACLS: Readonly<Record<string, string[]>> = {
  sys_journal_field: ['admin'],
};

/** Whether the caller may see rows of `table` (row-level read ACL); filtered rows are hidden. */
export function canReadRows(c: Ctx, acls: Record<string, string[]>, table: string): boolean {
  const roles = acls[table];
  return !roles || hasAnyRole(c.get('user'), roles);
}

/** Parse a JSON object body; undefined when it is not a JSON object. */
export async function jsonObject(c: Ctx): Promise<Record<string, unknown> | undefined> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function badJson(c: Ctx): Response {
  return fail(c, 400, 'Exception while reading request', 'The payload is not valid JSON.');
}
