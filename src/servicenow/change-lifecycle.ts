/**
 * The change request lifecycle as changegate drives it: create a standard change so that it can
 * be found again, and move any change forward one state at a time along the transitions the
 * instance itself offers (`GET /api/sn_chg_rest/change/{sys_id}/nextstates`), never along a
 * fixed list. A change the instance's own workflow has already moved past the target (approval
 * flows, CAB, a change manager closing it) is reached, not an error.
 *
 * Sources: ServiceNowDocs markdown/api-reference/rest-apis/change-management-api.md
 * ("GET /sn_chg_rest/change/{sys_id}/nextstates": available_states, state_transitions with
 * transition_available and conditions; "POST /sn_chg_rest/change/standard/{id}": fields not in
 * the template, description and the plans are ignored); state values from the change state
 * model (New -5 … Closed 3, Canceled 4).
 *
 * @module
 */
import type { ChangeApi } from './change.js';
import { assertCorrelationId, createWithCorrelation } from './correlated-create.js';
import type { ConnectionContext } from './context.js';
import { ServiceNowError } from './errors.js';
import { CHANGE_STATE } from '../events/change-state.js';
import type { SnRecord } from './flatten.js';
import type { TableApi } from './table.js';

export { CHANGE_STATE };

/** Forward order of the open states; Canceled is an end, never a step forward. */
const ORDER: readonly string[] = ['-5', '-4', '-3', '-2', '-1', '0', '3'];
const rank = (state: string | undefined) => ORDER.indexOf(state ?? '');

const LABEL: Readonly<Record<string, string>> = {
  '-5': 'New',
  '-4': 'Assess',
  '-3': 'Authorize',
  '-2': 'Scheduled',
  '-1': 'Implement',
  '0': 'Review',
  '3': 'Closed',
  '4': 'Canceled',
};
export const stateLabel = (state: string | undefined) => LABEL[state ?? ''] ?? String(state);

export interface Transition {
  to: string;
  available: boolean;
  /** Names of the conditions that did not pass (why a transition is unavailable). */
  failed: string[];
}

/** `nextstates` result → the transitions out of the current state. Tolerates both shapes seen. */
export function parseNextStates(raw: unknown): Transition[] {
  const result = (raw ?? {}) as {
    available_states?: unknown;
    state_transitions?: unknown;
  };
  const out: Transition[] = [];
  const flat = Array.isArray(result.state_transitions) ? result.state_transitions.flat(2) : [];
  for (const t of flat) {
    if (!t || typeof t !== 'object') continue;
    const o = t as Record<string, unknown>;
    const to = o.to_state === undefined ? '' : String(o.to_state);
    if (!to) continue;
    const conditions = Array.isArray(o.conditions) ? o.conditions : [];
    const failed = conditions
      .filter((c) => c && typeof c === 'object' && (c as { passed?: unknown }).passed === false)
      .map((c) => {
        const cond = (c as { condition?: { name?: unknown; description?: unknown } }).condition;
        return String(cond?.name ?? cond?.description ?? 'condition');
      });
    out.push({ to, available: o.transition_available !== false && failed.length === 0, failed });
  }
  // Only available_states (no transition detail): every listed state is a possible move.
  if (out.length === 0 && Array.isArray(result.available_states)) {
    for (const s of result.available_states)
      out.push({ to: String(s), available: true, failed: [] });
  }
  return out;
}

export type WalkOutcome =
  /** The CR is in the target state. */
  | 'reached'
  /** The instance's own workflow already moved it past the target (e.g. Review, Closed). */
  | 'passed'
  /** It stopped early because `stopWhen` held (e.g. its approval is now requested). */
  | 'stopped'
  /** No forward transition is available now (an approval or condition is pending). */
  | 'blocked'
  /** Canceled, or Closed when the target was not Closed: nothing more to do. */
  | 'ended';

export interface WalkResult {
  cr: SnRecord;
  outcome: WalkOutcome;
  detail: string;
}

export interface WalkOptions {
  /** Extra fields written with the hop into a state (close_code/close_notes into Closed…). */
  fieldsFor?: (to: string) => Record<string, string> | undefined;
  /** Stop before the target once this holds (checked after every hop). */
  stopWhen?: (cr: SnRecord) => boolean;
  maxHops?: number;
  signal?: AbortSignal;
}

export interface LifecycleClient {
  change: ChangeApi;
  table: TableApi;
}

const TABLE = 'change_request';

/**
 * Move `cr` towards `target` one offered transition at a time: each hop asks `nextstates`,
 * takes the furthest available state not beyond the target, and re-reads the state the PATCH
 * left (an automatic transition may have moved it further). A refused PATCH (a business rule
 * or state-model abort) re-reads the CR: if the instance moved it meanwhile, the walk goes on
 * from there; otherwise it is `blocked`.
 * @throws ServiceNowError for transport, auth and role failures (the caller retries later).
 */
export async function walkTo(
  client: LifecycleClient,
  start: SnRecord,
  target: string,
  options: WalkOptions = {},
): Promise<WalkResult> {
  const sysId = start.sys_id ?? '';
  let cr = start;
  const goal = rank(target);
  if (goal < 0) throw new TypeError(`[changegate/servicenow] not a forward state: ${target}`);
  for (let hop = 0; hop < (options.maxHops ?? 8); hop++) {
    const now = rank(cr.state);
    if (cr.state === CHANGE_STATE.canceled)
      return { cr, outcome: 'ended', detail: `${cr.number ?? sysId} is Canceled` };
    if (now === goal) return { cr, outcome: 'reached', detail: `in ${stateLabel(target)}` };
    if (now > goal)
      return {
        cr,
        outcome: 'passed',
        detail: `already ${stateLabel(cr.state)}, past ${stateLabel(target)}`,
      };
    if (hop > 0 && options.stopWhen?.(cr))
      return { cr, outcome: 'stopped', detail: `waiting in ${stateLabel(cr.state)}` };
    const transitions = parseNextStates(
      await client.change.nextStates(sysId, { signal: options.signal }),
    );
    const forward = transitions.filter(
      (t) => rank(t.to) > now && rank(t.to) <= goal && t.to !== CHANGE_STATE.canceled,
    );
    const next = forward.filter((t) => t.available).sort((a, b) => rank(b.to) - rank(a.to))[0];
    if (!next) {
      const why = forward.flatMap((t) => t.failed);
      return {
        cr,
        outcome: 'blocked',
        detail: `no transition from ${stateLabel(cr.state)} towards ${stateLabel(target)} is available now${why.length ? ` (${why.join('; ')})` : ''}`,
      };
    }
    try {
      cr = await client.table.patch(
        TABLE,
        sysId,
        { state: next.to, ...options.fieldsFor?.(next.to) },
        { signal: options.signal },
      );
    } catch (err) {
      if (
        !(err instanceof ServiceNowError) ||
        !['forbidden', 'invalid', 'conflict'].includes(err.kind)
      )
        throw err;
      const fresh = await client.table.get(TABLE, sysId, { signal: options.signal });
      if (fresh.state === cr.state)
        return {
          cr: fresh,
          outcome: 'blocked',
          detail: `moving to ${stateLabel(next.to)} was refused: ${err.snMessage ?? err.message}`,
        };
      cr = fresh;
    }
  }
  return { cr, outcome: 'blocked', detail: `gave up after ${options.maxHops ?? 8} transitions` };
}

/**
 * Ask for approval of a new normal or emergency CR: walk it towards Authorize and stop as soon as
 * its approval is requested (technical approval at Assess on a real instance, CAB at Authorize).
 * A CR already approved, scheduled or further on is `passed`.
 */
export function requestApproval(
  client: LifecycleClient,
  cr: SnRecord,
  options: Pick<WalkOptions, 'signal'> = {},
): Promise<WalkResult> {
  if (cr.approval === 'approved' && rank(cr.state) >= rank(CHANGE_STATE.scheduled))
    return Promise.resolve({ cr, outcome: 'passed', detail: 'already approved' });
  return walkTo(client, cr, CHANGE_STATE.authorize, {
    ...options,
    stopWhen: (c) => c.approval === 'requested' || c.approval === 'approved',
  });
}

export interface StandardCreate {
  /** std_change_record_producer sys_id. */
  templateId: string;
  /** Everything changegate wants on the CR; the template keeps only its own fields. */
  fields: Record<string, string>;
  correlationId: string;
  /**
   * Lower bound of the CR's sys_created_on (ServiceNow time, UTC): the time the deployment was
   * requested, minus clock skew. Bounds the search for a CR this step created but never tagged.
   */
  createdAfter: string;
  signal?: AbortSignal;
}

export interface StandardCreated {
  cr: SnRecord;
  how: 'created' | 'recovered';
  /** The create dropped these fields (they were set by the Table API PATCH instead). */
  dropped: string[];
}

/**
 * Create a standard change that stays findable. The Change Management API ignores fields that
 * are not in the template (correlation_id among them), so this is one idempotent step of two
 * calls: POST from the template, then a Table API PATCH of `correlation_id` and every field the
 * create dropped.
 *
 * A step that failed between the two calls (crash, timeout, a 5xx on the PATCH) is repeated by
 * Kafka redelivery. The caller has already looked for `correlation_id`; this looks for the
 * untagged CR the earlier attempt created — type standard, no correlation_id, the same
 * short_description (a template field the create keeps), created after `createdAfter` — and
 * tags it instead of creating a second one. The same lookup recovers a POST whose answer was
 * lost (`maybeCommitted`).
 *
 * Residual risk (documented in docs/servicenow.md): two deployments with the same short
 * description that both fail between the two calls within the same window could swap CRs; each
 * still gets exactly one. A template without short_description cannot be recovered this way
 * (the step then logs that, and a redelivery creates a second CR).
 */
export async function createStandardChange(
  client: LifecycleClient,
  ctx: Pick<ConnectionContext, 'policy' | 'log' | 'random'>,
  req: StandardCreate,
): Promise<StandardCreated> {
  assertCorrelationId(req.correlationId);
  const orphan = () => findUntagged(client.table, req);
  const existing = await orphan();
  const cr =
    existing ??
    (await createWithCorrelation({
      correlationId: req.correlationId,
      post: () => client.change.createStandard(req.templateId, req.fields, { signal: req.signal }),
      lookup: orphan,
      policy: ctx.policy,
      log: ctx.log,
      random: ctx.random,
      signal: req.signal,
    }));
  if (existing) {
    ctx.log.info(
      { correlationId: req.correlationId, number: existing.number },
      'standard change created by an earlier attempt was never tagged; tagging it',
    );
  }
  const dropped = Object.keys(req.fields).filter((k) => (cr[k] ?? '') !== req.fields[k]);
  if (dropped.includes('short_description')) {
    ctx.log.warn(
      { correlationId: req.correlationId, number: cr.number, template: req.templateId },
      'the standard change template does not keep short_description: a failure before the CR is tagged cannot be recovered',
    );
  }
  const tag: Record<string, string> = {
    correlation_id: req.correlationId,
    correlation_display: 'changegate',
  };
  for (const k of dropped) tag[k] = req.fields[k]!;
  const tagged = await client.table.patch(TABLE, cr.sys_id ?? '', tag, { signal: req.signal });
  return { cr: { ...cr, ...tagged }, how: existing ? 'recovered' : 'created', dropped };
}

/** Characters an encoded-query value cannot carry unescaped. */
const UNSAFE_VALUE = /[\^\r\n]/;

async function findUntagged(table: TableApi, req: StandardCreate): Promise<SnRecord | undefined> {
  const title = req.fields.short_description ?? '';
  if (!title || UNSAFE_VALUE.test(title) || UNSAFE_VALUE.test(req.createdAfter)) return undefined;
  const [found] = await table.query(TABLE, {
    query: `type=standard^correlation_idISEMPTY^short_description=${title}^sys_created_on>=${req.createdAfter}^ORDERBYsys_created_on`,
    limit: 1,
    signal: req.signal,
  });
  return found;
}

/** The lifecycle bound to one connection (what `ServiceNowClient.lifecycle` is). */
export interface ChangeLifecycle {
  walkTo(cr: SnRecord, target: string, options?: WalkOptions): Promise<WalkResult>;
  requestApproval(cr: SnRecord, options?: Pick<WalkOptions, 'signal'>): Promise<WalkResult>;
  createStandard(req: StandardCreate): Promise<StandardCreated>;
}

export function createChangeLifecycle(
  client: LifecycleClient,
  ctx: Pick<ConnectionContext, 'policy' | 'log' | 'random'>,
): ChangeLifecycle {
  return {
    walkTo: (cr, target, options) => walkTo(client, cr, target, options),
    requestApproval: (cr, options) => requestApproval(client, cr, options),
    createStandard: (req) => createStandardChange(client, ctx, req),
  };
}
