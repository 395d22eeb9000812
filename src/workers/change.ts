import { createHash } from 'node:crypto';
import { toRecord } from '../bus/cloudevents.js';
import type { Bus, BusRecord } from '../bus/port.js';
import { NO_COMMIT_LOOKUP, type CommitLookup } from '../ci/commits.js';
import { auditRecord } from '../audit/auditor.js';
import type { ChangePolicy } from '../config/changes.js';
import type { Config } from '../config/schema.js';
import { buildEvent, type NormalizedEvent } from '../events/build.js';
import { DeploymentDataSchema, type DeploymentData } from '../events/cicd.js';
import type { CloudEvent } from '../events/envelope.js';
import type { GateDecision } from '../events/gate.js';
import { formatServiceNowTime } from '../gate/servicenow-time.js';
import { changeKind, resolvePolicy, templateVars } from '../policy/resolve.js';
import { render } from '../policy/template.js';
import {
  CHANGE_STATE,
  stateLabel,
  type ServiceNowClient,
  type ServiceNowClients,
  type SnRecord,
} from '../servicenow/index.js';
import type { HandlerContext, WorkerDefinition } from './runtime.js';
import { linkVerdict } from './change-link.js';
import { snapshotFromRecord } from './servicenow-gate-port.js';
import { withCommitReference } from './commit-reference.js';

export interface ChangeWorkerOptions {
  config: Pick<Config, 'kafka' | 'changes' | 'gates'>;
  bus: Bus;
  servicenow: ServiceNowClients;
  /** Commits a payload did not describe: `Change:` trailers, authors (GitHub); none when absent. */
  commits?: CommitLookup;
  clock?: () => number;
  onChangeCreated?: (ms: number) => void;
  onChangeClosed?: (closeCode: string) => void;
  /** A named or matched CR was refused (`bound-elsewhere`, `not-bound`). */
  onLinkRefused?: (reason: string) => void;
}

const TABLE = 'change_request';
const SOURCE = '/changegate/worker/change';
/** Tolerated difference between our clock and the instance's, for sys_created_on bounds. */
const CLOCK_SKEW_MS = 10 * 60_000;

/** When the deployment was requested: the event's time, else now. */
const eventTime = (event: CloudEvent, clock: () => number) => {
  const t = event.time ? Date.parse(event.time) : NaN;
  return Number.isFinite(t) ? t : clock();
};

/**
 * The change worker: deployments in, change requests out.
 *
 * - requested: find-or-create the CR by `correlation_id` (looked up before any create, and the
 *   create itself is retried only after a lookup proves it did not land), then register a gate
 *   on `changegate.changes` keyed by the CR number. A deployment it decides at the request (not
 *   change-controlled, a named CR refused or missing) becomes a `gate.predecided` event: the gate
 *   worker alone calls CI systems back, so this worker never does.
 * - started: move the CR to Implement when policy says so; work note with the run link.
 * - succeeded / failed: work note, then close (successful / unsuccessful) or open a follow-up.
 *
 * It never writes to a CR it cannot identify: no correlation match and no named number means
 * the event is audited and skipped, never an update of "sys_id=undefined".
 */
export function changeWorker(options: ChangeWorkerOptions): WorkerDefinition {
  const { config, bus, servicenow, clock = Date.now } = options;
  const commits = options.commits ?? NO_COMMIT_LOOKUP;
  const topics = config.kafka.topics;

  const publish = (
    events: NormalizedEvent[],
    audits: Parameters<typeof auditRecord>[1][],
    idBase: string,
  ) => {
    const now = new Date(clock());
    const records: BusRecord[] = events.map((n, i) =>
      toRecord(
        topics.changes,
        buildEvent(n, { id: `${idBase}:${n.type}:${i}`, source: SOURCE, time: now }),
      ),
    );
    // Ids derived from the event: a handler retried after its publish landed writes the same
    // audit lines again, and the ledger keeps each once.
    audits.forEach((a, i) =>
      records.push(auditRecord(topics.audit, { id: `${idBase}:audit:${i}`, ...a }, now)),
    );
    return bus.publish(records);
  };

  const action = (
    type: 'created' | 'linked' | 'implementing' | 'closed',
    cr: SnRecord,
    correlationId: string,
    extra: { detail?: string; closeCode?: string; runUrl?: string | undefined } = {},
  ): NormalizedEvent => {
    const { runUrl, ...rest } = extra;
    return {
      type: `dev.changegate.change.${type}`,
      subject: cr.number!,
      key: cr.number!,
      data: {
        changeNumber: cr.number!,
        changeSysId: cr.sys_id!,
        correlationId,
        action: type,
        ...(cr.type ? { changeType: cr.type } : {}),
        ...(cr.approval ? { approval: cr.approval } : {}),
        ...(runUrl ? { runUrl } : {}),
        ...rest,
      },
    };
  };

  /**
   * A gate decided at the request, for the gate worker to call back (it alone calls CI systems,
   * so a gate is called back once however it was decided). Keyed by the CR it names, if any,
   * else by the correlation id. Nothing when the deployment does not wait at a gate.
   */
  const predecided = (
    d: DeploymentData,
    decided: GateDecision,
    cr?: SnRecord,
    policy?: ChangePolicy,
  ): NormalizedEvent[] => {
    if (!d.callback) return [];
    const key = cr?.number ?? d.correlationId;
    return [
      {
        type: 'dev.changegate.gate.predecided',
        subject: key,
        key,
        data: {
          ...gateOf(d, policy),
          ...(cr?.number ? { changeNumber: cr.number } : {}),
          ...(cr?.sys_id ? { changeSysId: cr.sys_id } : {}),
          decided,
        },
      },
    ];
  };

  /** What every gate of a deployment carries, registered or decided at the request. */
  const gateOf = (d: DeploymentData, policy?: ChangePolicy) => ({
    gateId: gateIdOf(d),
    provider: d.provider,
    project: d.project,
    environment: d.environment,
    deploymentId: d.deploymentId,
    correlationId: d.correlationId,
    callback: d.callback!,
    ...(d.run?.url ? { runUrl: d.run.url } : {}),
    policy: policy?.gate ?? 'default',
    registeredAt: new Date(clock()).toISOString(),
    people: {
      ...(d.actor ? { actor: { login: d.actor } } : {}),
      ...(d.commit.author ? { commitAuthor: d.commit.author } : {}),
      ...(d.commit.committer ? { committer: d.commit.committer } : {}),
      ...(d.pullRequestAuthor ? { pullRequestAuthor: d.pullRequestAuthor } : {}),
    },
  });

  async function findNamed(client: ServiceNowClient, policy: ChangePolicy, d: DeploymentData) {
    if (policy.link.byNumber && d.changeNumber) {
      const [cr] = await client.table.query(TABLE, { query: `number=${d.changeNumber}`, limit: 1 });
      return { cr, how: `named by the pipeline (${d.changeNumber})` };
    }
    if (policy.link.byTitle) {
      const title = render(policy.link.byTitle, templateVars(d));
      const [cr] = await client.table.query(TABLE, {
        query: `short_description=${title}^active=true^ORDERBYDESCsys_created_on`,
        limit: 1,
      });
      return { cr, how: `found by title "${title}"` };
    }
    return undefined;
  }

  /** The correlation id the CR carries: per deployment, or per release when reused. */
  const crCorrelation = (policy: ChangePolicy, d: DeploymentData) =>
    policy.reuse === 'release' && d.commit.sha
      ? `${d.provider}/${d.project}/release-${d.commit.sha}`
      : d.correlationId;

  async function create(
    client: ServiceNowClient,
    policy: ChangePolicy,
    kind: string,
    d: DeploymentData,
    correlationId: string,
    requestedAt: number,
  ) {
    const vars = templateVars(d);
    const now = clock();
    const fields: Record<string, string> = {
      short_description: render(policy.shortDescription, vars).slice(0, 160),
      description: render(policy.description, vars),
      start_date: formatServiceNowTime(new Date(now)),
      end_date: formatServiceNowTime(new Date(now + policy.plannedWindowMinutes * 60_000)),
      ...Object.fromEntries(Object.entries(policy.fields).map(([k, v]) => [k, render(v, vars)])),
    };
    const started = performance.now();
    let cr: SnRecord;
    if (kind === 'standard') {
      if (!policy.template)
        throw new Error(`policy ${policy.name}: mode standard needs a template`);
      const made = await client.lifecycle.createStandard({
        templateId: await templateId(client, policy.template),
        fields,
        correlationId,
        createdAfter: formatServiceNowTime(new Date(requestedAt - CLOCK_SKEW_MS)),
      });
      cr = (await schedule(client, made.cr)).cr;
    } else {
      const created =
        kind === 'emergency'
          ? await client.change.createEmergency(fields, { correlationId })
          : await client.change.createNormal(fields, { correlationId });
      cr = (await client.lifecycle.requestApproval(created)).cr;
    }
    options.onChangeCreated?.(performance.now() - started);
    return cr;
  }

  /**
   * A standard CR is pre-approved; on instances whose standard model starts in New it is moved
   * to Scheduled, where the gate's advance to Implement takes over.
   */
  const schedule = (client: ServiceNowClient, cr: SnRecord) =>
    client.lifecycle.walkTo(cr, CHANGE_STATE.scheduled);

  async function templateId(client: ServiceNowClient, template: string): Promise<string> {
    if (/^[0-9a-f]{32}$/.test(template)) return template;
    const [found] = await client.table.query('std_change_record_producer', {
      query: `name=${template}^active=true`,
      limit: 1,
      fields: ['sys_id', 'name'],
    });
    if (!found?.sys_id) throw new Error(`standard change template '${template}' not found`);
    return found.sys_id;
  }

  async function onRequested(d: DeploymentData, event: CloudEvent, ctx: HandlerContext) {
    const policy = resolvePolicy(config.changes.policies, d);
    const kind = policy ? changeKind(policy, d) : 'none';
    const audit = {
      key: d.correlationId,
      actor: 'changegate/change',
      correlationId: d.correlationId,
    };
    if (!policy || kind === 'none') {
      ctx.log.info({ correlationId: d.correlationId }, 'environment not change-controlled');
      await publish(
        predecided(
          d,
          { outcome: 'released', reason: `${d.environment} is not change-controlled` },
          undefined,
          policy,
        ),
        [
          {
            ...audit,
            action: 'not-controlled',
            reason: policy ? `policy ${policy.name}: mode none` : 'no policy matches',
          },
        ],
        event.id,
      );
      return;
    }
    const client = servicenow.clientFor(policy.connection);
    const correlationId = crCorrelation(policy, d);

    let cr: SnRecord | undefined;
    let how: 'created' | 'linked' = 'linked';
    let detail: string;
    const named = await findNamed(client, policy, d);
    if (named) {
      cr = named.cr;
      detail = named.how;
      if (!cr) {
        ctx.log.warn({ correlationId }, `no change request ${named.how}`);
        await publish(
          predecided(
            d,
            { outcome: 'rejected', reason: `no change request ${named.how}` },
            undefined,
            policy,
          ),
          [{ ...audit, action: 'link-failed', reason: `no change request ${named.how}` }],
          event.id,
        );
        return;
      }
      const verdict = linkVerdict(policy, d, cr, correlationId);
      if (!verdict.ok) {
        // Never a silent new CR: the pipeline is told why, the refusal is audited and counted.
        ctx.log.warn({ correlationId, number: cr.number, reason: verdict.reason }, verdict.detail);
        options.onLinkRefused?.(verdict.reason);
        await publish(
          predecided(
            d,
            { outcome: 'rejected', reason: `refused ${named.how}: ${verdict.detail}` },
            cr,
            policy,
          ),
          [
            {
              ...audit,
              action: 'link-refused',
              reason: verdict.detail,
              detail: { change: cr.number, refusal: verdict.reason, how: named.how },
            },
          ],
          event.id,
        );
        return;
      }
      detail = `${detail}; ${verdict.why}`;
      // The install kit's business rule only reports CRs that carry a correlation_id: a CR
      // raised by hand has none, and its approval would never reach the gate. Binding it to
      // this deployment makes it reported, and marks it as taken for any other deployment.
      if (verdict.bind && cr.sys_id) {
        cr = {
          ...cr,
          ...(await client.table.patch(TABLE, cr.sys_id, {
            correlation_id: correlationId,
            correlation_display: 'changegate',
          })),
        };
        detail = `${detail}; bound to ${correlationId}`;
      }
    } else if (kind === 'link') {
      const reason = `policy ${policy.name} only links a CR the pipeline names, and none was named`;
      await publish(
        predecided(d, { outcome: 'rejected', reason }, undefined, policy),
        [{ ...audit, action: 'link-failed', reason }],
        event.id,
      );
      return;
    } else {
      cr = await client.table.findByCorrelationId(TABLE, correlationId);
      if (cr) {
        detail = `reused by correlation_id ${correlationId}`;
        // Never asked (a rejected CR is back in New too, but its approval says "rejected").
        const unrequested =
          (cr.approval ?? 'not requested') === 'not requested' &&
          (cr.state === '-5' || (kind === 'normal' && cr.state === '-4'));
        if (unrequested && kind !== 'standard')
          cr = (await client.lifecycle.requestApproval(cr)).cr;
        else if (kind === 'standard' && cr.state === CHANGE_STATE.new)
          cr = (await schedule(client, cr)).cr;
      } else {
        cr = await create(client, policy, kind, d, correlationId, eventTime(event, clock));
        how = 'created';
        detail = `${kind} change created by policy ${policy.name}`;
      }
    }
    if (!cr.number || !cr.sys_id)
      throw new Error(`ServiceNow returned a change request without number/sys_id`);

    const events: NormalizedEvent[] = [
      action(how, cr, d.correlationId, { detail, runUrl: d.run?.url }),
    ];
    if (d.callback) {
      events.push({
        type: 'dev.changegate.gate.registered',
        subject: cr.number,
        key: cr.number,
        data: {
          ...gateOf(d, policy),
          changeNumber: cr.number,
          changeSysId: cr.sys_id,
          change: snapshotFromRecord(cr),
        },
      });
    }
    ctx.log.info({ number: cr.number, correlationId: d.correlationId, how }, detail);
    await publish(
      events,
      [
        {
          ...audit,
          key: cr.number,
          action: `change.${how}`,
          reason: detail,
          detail: { sysId: cr.sys_id, gate: Boolean(d.callback) },
        },
      ],
      event.id,
    );
  }

  /** The CR a later deployment event belongs to, or undefined (then nothing is touched). */
  async function crOf(d: DeploymentData) {
    const policy = resolvePolicy(config.changes.policies, d);
    if (!policy || policy.mode === 'none') return undefined;
    const client = servicenow.clientFor(policy.connection);
    const named = await findNamed(client, policy, d);
    const correlationId = crCorrelation(policy, d);
    const cr = named ? named.cr : await client.table.findByCorrelationId(TABLE, correlationId);
    // A named CR this deployment may not use (refused at its request) is never touched.
    if (named && cr && !linkVerdict(policy, d, cr, correlationId).ok) return undefined;
    return cr?.sys_id && cr.number ? { cr, client, policy } : undefined;
  }

  async function onStarted(d: DeploymentData, event: CloudEvent, ctx: HandlerContext) {
    const found = await crOf(d);
    if (!found) return skip(d, event, ctx, 'started');
    const { cr, client, policy } = found;
    const note = `changegate: deployment of ${d.project} to ${d.environment} started.${d.run?.url ? ` Run: ${d.run.url}` : ''}`;
    const events: NormalizedEvent[] = [];
    // Only an approved CR (Scheduled) moves to Implement, along the transitions the instance
    // offers; one still waiting, or already moved on by the instance, only gets the note.
    if (policy.implementOnStart && cr.state === CHANGE_STATE.scheduled) {
      const walked = await client.lifecycle.walkTo(cr, CHANGE_STATE.implement, {
        fieldsFor: () => ({ work_notes: note }),
      });
      if (walked.outcome === 'reached')
        events.push(action('implementing', walked.cr, d.correlationId));
      else await client.table.addWorkNote(TABLE, cr.sys_id!, `${note} (${walked.detail})`);
    } else {
      await client.table.addWorkNote(TABLE, cr.sys_id!, note);
    }
    await publish(
      events,
      [
        {
          key: cr.number!,
          actor: 'changegate/change',
          action: 'change.noted',
          correlationId: d.correlationId,
          reason: 'deployment started',
        },
      ],
      event.id,
    );
  }

  async function onFinished(
    d: DeploymentData,
    succeeded: boolean,
    event: CloudEvent,
    ctx: HandlerContext,
  ) {
    const found = await crOf(d);
    if (!found) return skip(d, event, ctx, succeeded ? 'succeeded' : 'failed');
    const { cr, client, policy } = found;
    const result = succeeded ? 'succeeded' : 'failed';
    const notes = `changegate: deployment of ${d.project} to ${d.environment} ${result}.${d.run?.url ? ` Run: ${d.run.url}` : ''}`;
    const todo = succeeded ? policy.onSuccess : policy.onFailure;
    // Only an authorized CR (Scheduled, Implement, Review) can be closed; one that was never
    // approved, or is already closed or canceled (by a person or the instance's own workflow),
    // only gets the note — that is done, not a failure.
    const closable = [CHANGE_STATE.scheduled, CHANGE_STATE.implement, CHANGE_STATE.review].includes(
      (cr.state ?? '') as never,
    );
    if (todo === 'leave' || !closable) {
      const why = closable
        ? ''
        : cr.state === CHANGE_STATE.closed
          ? ' The change request was already closed.'
          : ` The change request was not closed: its state is ${stateLabel(cr.state)}.`;
      await client.table.addWorkNote(TABLE, cr.sys_id!, notes + why);
      await publish(
        [],
        [
          {
            key: cr.number!,
            actor: 'changegate/change',
            action: 'change.noted',
            correlationId: d.correlationId,
            reason: `deployment ${result}${cr.state === CHANGE_STATE.closed ? '; already closed' : ''}`,
          },
        ],
        event.id,
      );
      return;
    }
    const closeCode = succeeded ? 'successful' : 'unsuccessful';
    // ServiceNow closes through Review (Implement → Review → Closed, close code and notes on the
    // last hop); the walk follows whatever transitions this instance's model offers.
    const walked = await client.lifecycle.walkTo(cr, CHANGE_STATE.closed, {
      fieldsFor: (to) =>
        to === CHANGE_STATE.closed
          ? { close_code: closeCode, close_notes: notes, work_notes: notes }
          : undefined,
    });
    if (walked.outcome === 'blocked' || walked.outcome === 'ended') {
      // The instance will not close it now (a condition or its own workflow): say so on the CR
      // for a person to judge; retrying the event would not change the instance's mind.
      await client.table.addWorkNote(
        TABLE,
        cr.sys_id!,
        `${notes} The change request was not closed: ${walked.detail}.`,
      );
      await publish(
        [],
        [
          {
            key: cr.number!,
            actor: 'changegate/change',
            action: 'change.noted',
            correlationId: d.correlationId,
            reason: `deployment ${result}; not closed: ${walked.detail}`,
          },
        ],
        event.id,
      );
      return;
    }
    const closed = walked.cr;
    options.onChangeClosed?.(closeCode);
    const events: NormalizedEvent[] = [
      action('closed', closed.number ? closed : cr, d.correlationId, { closeCode }),
    ];
    const audits: Parameters<typeof auditRecord>[1][] = [
      {
        key: cr.number!,
        actor: 'changegate/change',
        action: 'change.closed',
        correlationId: d.correlationId,
        reason: `deployment ${result}`,
        detail: { closeCode },
      },
    ];
    if (!succeeded && todo === 'follow-up') {
      const followCorrelation = `${crCorrelation(policy, d)}/follow-up`;
      const follow =
        (await client.table.findByCorrelationId(TABLE, followCorrelation)) ??
        (await client.change.createNormal(
          {
            short_description:
              `Follow-up / rollback for ${cr.number}: ${d.project} to ${d.environment}`.slice(
                0,
                160,
              ),
            description: notes,
            parent: cr.sys_id,
          },
          { correlationId: followCorrelation },
        ));
      events.push(
        action('created', follow, followCorrelation, { detail: `follow-up of ${cr.number}` }),
      );
      audits.push({
        key: follow.number ?? followCorrelation,
        actor: 'changegate/change',
        action: 'change.created',
        correlationId: followCorrelation,
        reason: `follow-up of ${cr.number}`,
      });
    }
    ctx.log.info({ number: cr.number, closeCode }, 'change request closed');
    await publish(events, audits, event.id);
  }

  async function skip(d: DeploymentData, event: CloudEvent, ctx: HandlerContext, what: string) {
    ctx.log.info(
      { correlationId: d.correlationId },
      `deployment ${what}: no change request to update`,
    );
    await publish(
      [],
      [
        {
          key: d.correlationId,
          actor: 'changegate/change',
          action: 'skipped',
          correlationId: d.correlationId,
          reason: `deployment ${what} but no change request is known for it`,
        },
      ],
      event.id,
    );
  }

  return {
    name: 'change',
    topics: [topics.cicd],
    async handle(event, ctx) {
      const type = event.type;
      if (!type.startsWith('dev.changegate.deployment.')) return;
      const parsed = DeploymentDataSchema.parse(event.data);
      // The only commit-lookup call site: fills the commit (message, CR, authors) before any policy use.
      const d = await withCommitReference(parsed, config, commits);
      if (type === 'dev.changegate.deployment.requested') await onRequested(d, event, ctx);
      else if (type === 'dev.changegate.deployment.started') await onStarted(d, event, ctx);
      else if (type === 'dev.changegate.deployment.succeeded')
        await onFinished(d, true, event, ctx);
      else if (type === 'dev.changegate.deployment.failed') await onFinished(d, false, event, ctx);
    },
  };
}

/**
 * One gate per deployment attempt waiting at one callback target: a redelivered request maps to
 * the same gate (ignored), a re-run (next attempt) gets a new one.
 */
export function gateIdOf(d: DeploymentData): string {
  const callback = d.callback
    ? `${d.callback.kind}|${d.callback.url}|${JSON.stringify(d.callback.params)}`
    : '';
  const digest = createHash('sha256')
    .update(`${d.correlationId}|${callback}|${d.run?.attempt ?? 1}`)
    .digest('hex')
    .slice(0, 16);
  return `gate-${digest}`;
}
