/**
 * Identification and Reconciliation (`POST /api/now/identifyreconcile`): identify each item by
 * its class's identification attributes (default `name`), insert or update it, and create
 * `cmdb_rel_ci` rows for relations given by item index. The answer mirrors the engine's:
 * per item `className, operation (INSERT|UPDATE|NO_CHANGE), sysId, identifierEntrySysId,
 * identificationAttempts, inputIndices, errors, errorCount, …`, HTTP 200 even when an item fails.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { hasAnyRole } from '../auth.js';
import type { SandboxContext } from '../context.js';
import type { SnRecord } from '../types.js';
import { glideDateTime } from '../util.js';
import { badJson, fail, jsonObject, type SandboxEnv } from './http.js';

interface ItemResult {
  className: string;
  operation?: 'INSERT' | 'UPDATE' | 'NO_CHANGE';
  sysId?: string;
  identifierEntrySysId: string;
  identificationAttempts: unknown[];
  inputIndices: number[];
  info: unknown[];
  markers: unknown[];
  additionalRelatedItems: unknown[];
  errorCount: number;
  warningCount: number;
  errors?: { error: string; message: string }[];
}

// A stable fake cmdb_identifier_entry sys_id per class, so clients can log and compare it.
function identifierEntryId(className: string): string {
  return createHash('md5').update(`identifier:${className}`).digest('hex');
}

function stringValues(values: unknown): SnRecord {
  const out: SnRecord = {};
  if (values && typeof values === 'object') {
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
      out[k] = v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return out;
}

/** Build the identifyreconcile router (mount at `/api/now/identifyreconcile`). */
export function identifyRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.post('/', async (c) => {
    const user = c.get('user');
    if (!hasAnyRole(user, ['itil', 'import_transformer'])) {
      return fail(
        c,
        403,
        'Operation Failed',
        'ACL Exception Insert Failed due to security constraints',
      );
    }
    const body = await jsonObject(c);
    if (!body) return badJson(c);
    const items = Array.isArray(body.items) ? (body.items as unknown[]) : undefined;
    if (!items || items.length === 0) {
      return fail(c, 400, 'Invalid payload', 'In payload no items given');
    }
    const source = c.req.query('sysparm_data_source') ?? 'ServiceNow';
    const now = glideDateTime(ctx.clock());

    const results: ItemResult[] = items.map((raw, index) => {
      const item = (raw ?? {}) as Record<string, unknown>;
      const className = typeof item.className === 'string' ? item.className : '';
      const values = stringValues(item.values);
      const base: ItemResult = {
        className,
        identifierEntrySysId: 'Unknown',
        identificationAttempts: [],
        inputIndices: [index],
        info: [],
        markers: [],
        additionalRelatedItems: [],
        errorCount: 0,
        warningCount: 0,
      };
      const error = (code: string, message: string): ItemResult => ({
        ...base,
        errorCount: 1,
        errors: [{ error: code, message }],
      });
      if (!className) return error('INVALID_INPUT_DATA', 'In payload no className given for item');
      if (!className.startsWith('cmdb_ci')) {
        return error(
          'INVALID_INPUT_DATA',
          `In payload, className [${className}] is not a CMDB class`,
        );
      }
      const attributes = ctx.identificationRules[className] ?? ['name'];
      if (attributes.some((a) => !values[a])) {
        return error(
          'MISSING_MATCHING_ATTRIBUTES',
          `In payload missing minimum set of input values for criterion (identifier) attributes from any identifier entry for class [${className}]. Add values for [${attributes.join(', ')}]`,
        );
      }
      const attempt = {
        identifierName: `${className} Identifier`,
        attributes,
        searchOnTable: className,
        hybridEntryCiAttributes: [],
      };
      const found = ctx.store
        .list(className)
        .filter((r) => attributes.every((a) => r[a] === values[a]));
      if (found.length > 1) {
        return {
          ...error('MULTI_MATCH', `Found multiple duplicate matches for class [${className}]`),
          identificationAttempts: [{ ...attempt, attemptResult: 'MULTI_MATCH' }],
        };
      }
      const entry = { identifierEntrySysId: identifierEntryId(className) };
      const existing = found[0];
      if (existing) {
        const changed = Object.entries(values).some(([k, v]) => existing[k] !== v);
        if (changed) {
          ctx.store.update(
            className,
            existing.sys_id ?? '',
            { ...values, last_discovered: now },
            user.username,
          );
        }
        return {
          ...base,
          ...entry,
          operation: changed ? 'UPDATE' : 'NO_CHANGE',
          sysId: existing.sys_id ?? '',
          identificationAttempts: [{ ...attempt, attemptResult: 'MATCHED' }],
        };
      }
      const inserted = ctx.store.insert(
        className,
        { ...values, discovery_source: source, first_discovered: now, last_discovered: now },
        user.username,
      );
      if (!inserted.ok) return error('INSERT_FAILED', inserted.detail);
      return {
        ...base,
        ...entry,
        operation: 'INSERT',
        sysId: inserted.record.sys_id ?? '',
        identificationAttempts: [{ ...attempt, attemptResult: 'NO_MATCH' }],
      };
    });

    const relations = (Array.isArray(body.relations) ? (body.relations as unknown[]) : []).map(
      (raw) => {
        const rel = (raw ?? {}) as Record<string, unknown>;
        const parent = results[Number(rel.parent)]?.sysId;
        const child = results[Number(rel.child)]?.sysId;
        const typeName = typeof rel.type === 'string' ? rel.type : '';
        if (!parent || !child || !typeName.includes('::')) {
          return {
            className: 'cmdb_rel_ci',
            errorCount: 1,
            errors: [
              {
                error: 'INVALID_INPUT_DATA',
                message: `Invalid relation ${JSON.stringify(rel)}: parent/child must index identified items, type must look like "Runs on::Runs"`,
              },
            ],
          };
        }
        const type =
          ctx.store.list('cmdb_rel_type').find((t) => t.name === typeName) ??
          (() => {
            const [parentDescriptor = '', childDescriptor = ''] = typeName.split('::');
            const created = ctx.store.insert(
              'cmdb_rel_type',
              {
                name: typeName,
                parent_descriptor: parentDescriptor,
                child_descriptor: childDescriptor,
              },
              user.username,
            );
            return created.ok ? created.record : {};
          })();
        const typeId = type.sys_id ?? '';
        const existing = ctx.store
          .list('cmdb_rel_ci')
          .find((r) => r.parent === parent && r.child === child && r.type === typeId);
        if (existing)
          return {
            className: 'cmdb_rel_ci',
            operation: 'NO_CHANGE',
            sysId: existing.sys_id,
            errorCount: 0,
          };
        const created = ctx.store.insert(
          'cmdb_rel_ci',
          { parent, child, type: typeId },
          user.username,
        );
        return {
          className: 'cmdb_rel_ci',
          operation: 'INSERT',
          sysId: created.ok ? created.record.sys_id : undefined,
          errorCount: 0,
        };
      },
    );

    return c.json({ result: { items: results, relations } });
  });

  return app;
}
