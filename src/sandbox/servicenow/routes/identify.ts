/**
 * Identification and Reconciliation (`POST /api/now/identifyreconcile`, and `/query`, which
 * reports the same without committing): identify each item by its class's base identification
 * rule (ire-rules.ts), insert or update it, and create `cmdb_rel_ci` rows for its relations.
 * A class the dictionary lacks, a relation type the instance lacks, an application without the
 * `Runs on::Runs` host it depends on (MISSING_DEPENDENCY) or without any identifier attributes
 * (MISSING_MATCHING_ATTRIBUTES) is refused per item, HTTP 200, as the engine answers.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { hasAnyRole } from '../auth.js';
import type { SandboxContext } from '../context.js';
import { ruleFor, type IdentificationRule } from '../ire-rules.js';
import type { SnRecord } from '../types.js';
import { glideDateTime } from '../util.js';
import { badJson, fail, jsonObject, type Ctx, type SandboxEnv } from './http.js';

interface Attempt {
  identifierName: string;
  attemptResult: 'MATCHED' | 'MULTI_MATCH' | 'NO_MATCH' | 'SKIPPED';
  attributes: string[];
  searchOnTable: string;
  hybridEntryCiAttributes: string[];
}

interface ItemResult {
  className: string;
  operation?: 'INSERT' | 'UPDATE' | 'NO_CHANGE';
  sysId: string;
  identifierEntrySysId: string;
  identificationAttempts: Attempt[];
  inputIndices: number[];
  info: unknown[];
  markers: unknown[];
  mergedPayloadIds: unknown[];
  additionalRelatedItems: unknown[];
  errorCount: number;
  warningCount: number;
  errors?: { error: string; message: string }[];
}

interface Relation {
  parent: number;
  child: number;
  type: string;
}

// A stable stand-in for a cmdb_identifier_entry sys_id, so clients can log and compare it.
function identifierEntryId(rule: string, index: number): string {
  return createHash('md5').update(`identifier:${rule}:${index}`).digest('hex');
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

/** Relations by item index; `parent_id`/`child_id` name items by `internal_id`. */
function parseRelations(raw: unknown[], internalIds: Map<string, number>): Relation[] {
  return raw.map((r) => {
    const rel = (r ?? {}) as Record<string, unknown>;
    const at = (index: unknown, id: unknown): number =>
      typeof id === 'string' ? (internalIds.get(id) ?? -1) : Number(index ?? -1);
    return {
      parent: at(rel.parent, rel.parent_id),
      child: at(rel.child, rel.child_id),
      type: typeof rel.type === 'string' ? rel.type : '',
    };
  });
}

/** Build the identifyreconcile router (mount at `/api/now/identifyreconcile`). */
export function identifyRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  const dict = ctx.store.dictionary;

  const handle = async (c: Ctx, commit: boolean): Promise<Response> => {
    const user = c.get('user');
    if (!hasAnyRole(user, ['itil', 'asset', 'import_transformer'])) {
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
    const inputs = items.map((raw) => (raw ?? {}) as Record<string, unknown>);
    const internalIds = new Map<string, number>();
    inputs.forEach((item, i) => {
      if (typeof item.internal_id === 'string') internalIds.set(item.internal_id, i);
    });
    const relations = parseRelations(
      Array.isArray(body.relations) ? (body.relations as unknown[]) : [],
      internalIds,
    );
    const relationTypes = new Map(ctx.store.list('cmdb_rel_type').map((t) => [t.name, t]));

    const results: (ItemResult | undefined)[] = inputs.map(() => undefined);
    const base = (className: string, index: number): ItemResult => ({
      className,
      sysId: 'Unknown',
      identifierEntrySysId: 'Unknown',
      identificationAttempts: [],
      inputIndices: [index],
      info: [],
      markers: [],
      mergedPayloadIds: [],
      additionalRelatedItems: [],
      errorCount: 0,
      warningCount: 0,
    });
    const error = (r: ItemResult, code: string, message: string): ItemResult => ({
      ...r,
      errorCount: 1,
      errors: [{ error: code, message }],
    });

    const identify = (index: number, rule: IdentificationRule, className: string): ItemResult => {
      const values = stringValues(inputs[index]?.values);
      const result = base(className, index);
      let scope: ((r: SnRecord) => boolean) | undefined;
      if (rule.dependsOn) {
        const dep = rule.dependsOn;
        const host = relations.find(
          (r) =>
            r.parent === index &&
            r.type === dep.relation &&
            dict.isA(String(inputs[r.child]?.className ?? ''), dep.parentClass),
        );
        const hostId = host ? results[host.child]?.sysId : undefined;
        if (!host || !hostId || hostId === 'Unknown') {
          return error(
            result,
            'MISSING_DEPENDENCY',
            `In payload no relations found for dependent class [${className}]: it must have a [${dep.relation}] relation to an identified [${dep.parentClass}] item`,
          );
        }
        const runsOn = relationTypes.get(dep.relation)?.sys_id ?? '';
        const onHost = new Set(
          ctx.store
            .list('cmdb_rel_ci')
            .filter((r) => r.child === hostId && r.type === runsOn)
            .map((r) => r.parent),
        );
        scope = (r) => onHost.has(r.sys_id ?? '');
      }
      let matched: SnRecord | undefined;
      let matchedEntry = -1;
      let tried = false;
      for (const [i, entry] of rule.entries.entries()) {
        const attempt: Attempt = {
          identifierName: rule.name,
          attemptResult: 'SKIPPED',
          attributes: entry.attributes,
          searchOnTable: entry.table,
          hybridEntryCiAttributes: [],
        };
        result.identificationAttempts.push(attempt);
        if (!dict.has(entry.table) || entry.attributes.some((a) => !values[a])) continue;
        tried = true;
        const hits = ctx.store
          .listFamily(entry.table)
          .filter((r) => entry.attributes.every((a) => r[a] === values[a]))
          .filter((r) => !scope || scope(r));
        if (hits.length > 1) {
          attempt.attemptResult = 'MULTI_MATCH';
          return error(
            result,
            'MULTI_MATCH',
            `Found multiple duplicate matches for class [${className}] on [${entry.attributes.join(', ')}]`,
          );
        }
        if (hits.length === 1) {
          attempt.attemptResult = 'MATCHED';
          matched = hits[0];
          matchedEntry = i;
          break;
        }
        attempt.attemptResult = 'NO_MATCH';
      }
      if (!tried) {
        return error(
          result,
          'MISSING_MATCHING_ATTRIBUTES',
          `In payload missing minimum set of input values for criterion (identifier) attributes from any identifier entry for class [${className}]. Add values for any of [${rule.entries
            .map((e) => e.attributes.join(', '))
            .join('] or [')}]`,
        );
      }
      if (matched) {
        const table = matched.sys_class_name || className;
        const changed = Object.entries(values).some(
          ([k, v]) => dict.column(table, k) && matched[k] !== v,
        );
        if (changed && commit) {
          ctx.store.update(
            table,
            matched.sys_id ?? '',
            { ...values, last_discovered: now },
            user.username,
          );
        }
        return {
          ...result,
          className: table,
          operation: changed ? 'UPDATE' : 'NO_CHANGE',
          sysId: matched.sys_id ?? '',
          identifierEntrySysId: identifierEntryId(rule.name, matchedEntry),
        };
      }
      if (!commit) return { ...result, operation: 'INSERT' };
      const inserted = ctx.store.insert(
        className,
        { ...values, discovery_source: source, first_discovered: now, last_discovered: now },
        user.username,
      );
      if (!inserted.ok) return error(result, 'INSERT_FAILED', inserted.detail);
      return { ...result, operation: 'INSERT', sysId: inserted.record.sys_id ?? '' };
    };

    // Independent items first: a dependent one is identified within the host it runs on.
    const rules = inputs.map((item, index) => {
      const className = typeof item.className === 'string' ? item.className : '';
      if (!className) {
        results[index] = error(
          base(className, index),
          'INVALID_INPUT_DATA',
          'In payload no className given for item',
        );
        return undefined;
      }
      if (!dict.isA(className, 'cmdb_ci')) {
        results[index] = error(
          base(className, index),
          'INVALID_INPUT_DATA',
          `In payload, className [${className}] is not a valid CMDB class`,
        );
        return undefined;
      }
      const rule = ruleFor(dict, className, ctx.identificationRules);
      if (!rule) {
        results[index] = error(
          base(className, index),
          'IDENTIFICATION_RULE_MISSING',
          `No identification rule found for class [${className}] or any of its parent classes`,
        );
      }
      return rule;
    });
    for (const dependent of [false, true]) {
      rules.forEach((rule, index) => {
        if (!rule || !!rule.dependsOn !== dependent) return;
        const className = String(inputs[index]?.className);
        // An invalid relation type fails the item that declares it.
        const bad = relations.find(
          (r) => (r.parent === index || r.child === index) && !relationTypes.has(r.type),
        );
        results[index] = bad
          ? error(
              base(className, index),
              'INVALID_INPUT_DATA',
              `In payload, relation type [${bad.type}] is not a valid cmdb_rel_type name`,
            )
          : identify(index, rule, className);
      });
    }

    const relationResults = relations.map((rel, index) => {
      const parent = results[rel.parent]?.sysId;
      const child = results[rel.child]?.sysId;
      const type = relationTypes.get(rel.type);
      const out = { className: 'cmdb_rel_ci', inputIndices: [index], markers: [], errorCount: 0 };
      if (!type || !parent || !child || parent === 'Unknown' || child === 'Unknown') {
        return {
          ...out,
          sysId: 'Unknown',
          errorCount: 1,
          errors: [
            {
              error: 'INVALID_INPUT_DATA',
              message: type
                ? `Relation ${index}: parent and child must be identified items`
                : `Relation ${index}: type [${rel.type}] is not a valid cmdb_rel_type name`,
            },
          ],
        };
      }
      const existing = ctx.store
        .list('cmdb_rel_ci')
        .find((r) => r.parent === parent && r.child === child && r.type === type.sys_id);
      if (existing) return { ...out, operation: 'NO_CHANGE', sysId: existing.sys_id ?? '' };
      if (!commit) return { ...out, operation: 'INSERT', sysId: 'Unknown' };
      const created = ctx.store.insert(
        'cmdb_rel_ci',
        { parent, child, type: type.sys_id },
        user.username,
      );
      return {
        ...out,
        operation: 'INSERT',
        sysId: created.ok ? (created.record.sys_id ?? '') : '',
      };
    });

    return c.json({
      result: {
        items: results,
        additionalCommittedItems: [],
        relations: relationResults,
        additionalCommittedRelations: [],
      },
    });
  };

  app.post('/', (c) => handle(c, true));
  app.post('/query', (c) => handle(c, false));
  return app;
}
