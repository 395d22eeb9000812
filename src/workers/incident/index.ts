import { auditRecord, type AuditEntry } from '../../audit/auditor.js';
import type { Bus } from '../../bus/port.js';
import type { IncidentPolicy } from '../../config/incident.js';
import type { Config } from '../../config/schema.js';
import type { CloudEvent } from '../../events/envelope.js';
import { parseServiceNowTime } from '../../gate/servicenow-time.js';
import { render } from '../../policy/template.js';
import type { ServiceNowClient, ServiceNowClients, SnRecord } from '../../servicenow/index.js';
import {
  descriptionOf,
  EVENT_MARKER_PREFIX,
  eventMarker,
  firstNoteOf,
  occurrenceVars,
  repeatNoteOf,
  shortDescriptionOf,
} from './describe.js';
import { journalCount, journalHas } from './journal.js';
import { keyedSerial } from './keyed-serial.js';
import { OCCURRENCE_TYPES, occurrenceOf, type Occurrence } from './occurrence.js';
import { resolveIncidentPolicy } from './policy.js';
import { findRelatedChange } from './related-change.js';
import { patchOnce } from './write-once.js';
import { eventRouter, type HandlerContext, type WorkerDefinition } from '../runtime/index.js';

export interface IncidentWorkerOptions {
  config: Pick<Config, 'kafka' | 'incidents'>;
  bus: Bus;
  servicenow: ServiceNowClients;
  clock?: () => number;
}

const TABLE = 'incident';
const ACTOR = 'changegate/incident';
/** New, In Progress, On Hold: the states in which a repeat is noted instead of filed anew. */
const OPEN_STATES = '1,2,3';

/**
 * The incident worker: failed pipelines and deployments in, incidents out.
 *
 * - A failure files an incident whose `correlation_id` is the failure's fingerprint
 *   (`<provider>/<project>/<pipeline-or-environment>/<kind>`), linked to the CR that deployed.
 * - A failure whose fingerprint has an open incident opened within `repeatWindowMinutes` adds a
 *   work note "failed again (N times)" instead, N counted from the failure notes already on the
 *   incident (no custom field needed); the count field gets a copy where the instance has it.
 * - The next success of the fingerprint resolves its open incidents (policy `resolveOnSuccess`).
 *
 * Idempotency: every failure's work note carries its CloudEvent id, and the count moves in the
 * same PATCH as that note, so "the journal holds this id" means "this event was counted". A
 * redelivery or a retry reads the journal first and writes nothing twice. Creates are never
 * retried blind: an unknown outcome fails the attempt, and the next attempt finds the
 * incident by fingerprint before filing one. Events of one fingerprint are handled one at a
 * time in this process (they come from different partitions), so a burst files one incident.
 */
export function incidentWorker(options: IncidentWorkerOptions): WorkerDefinition {
  const { config, bus, servicenow, clock = Date.now } = options;
  const topics = config.kafka.topics;
  const serial = keyedSerial();

  const audit = (entries: AuditEntry[]) =>
    bus.publish(entries.map((e) => auditRecord(topics.audit, e, new Date(clock()))));

  async function openIncidents(client: ServiceNowClient, o: Occurrence, policy: IncidentPolicy) {
    return client.table.query(TABLE, {
      query: `correlation_id=${o.fingerprint}^stateIN${OPEN_STATES}^ORDERBYDESCsys_created_on`,
      fields: ['sys_id', 'number', 'state', 'opened_at', 'sys_created_on', policy.countField],
      limit: 50,
    });
  }

  function withinWindow(incident: SnRecord, policy: IncidentPolicy): boolean {
    const opened = parseServiceNowTime(incident.opened_at || incident.sys_created_on);
    return !opened || clock() - opened.getTime() <= policy.repeatWindowMinutes * 60_000;
  }

  async function onFailure(
    o: Occurrence,
    policy: IncidentPolicy,
    event: CloudEvent,
    ctx: HandlerContext,
  ) {
    const client = servicenow.clientFor(policy.connection);
    const [latest] = await openIncidents(client, o, policy);
    const base = { actor: ACTOR, correlationId: o.fingerprint };
    if (latest?.sys_id && withinWindow(latest, policy)) {
      if (await journalHas(client.table, latest.sys_id, eventMarker(event.id))) {
        ctx.log.info({ number: latest.number, eventId: event.id }, 'failure already counted');
        await audit([
          {
            ...base,
            key: latest.number ?? o.fingerprint,
            action: 'incident.redelivered',
            reason: `event ${event.id} was already counted on ${latest.number}`,
          },
        ]);
        return;
      }
      // The count is the number of failure notes already on the incident (each carries its
      // event's marker), so it needs no custom field; the count field, where the instance has
      // it, is only a copy (and a floor for incidents counted before notes carried markers).
      const noted = await journalCount(client.table, latest.sys_id, EVENT_MARKER_PREFIX);
      const stored = Number.parseInt(latest[policy.countField] ?? '', 10) || 0;
      const count = Math.max(1, noted, stored) + 1;
      await patchOnce(client, TABLE, latest.sys_id, {
        [policy.countField]: String(count),
        work_notes: repeatNoteOf(o, count, event.id),
      });
      ctx.log.info({ number: latest.number, count }, 'repeat failure noted');
      await audit([
        {
          ...base,
          key: latest.number ?? o.fingerprint,
          action: 'incident.repeated',
          reason: `${o.kind} failed again (${count} times)`,
          detail: { sysId: latest.sys_id, count, eventId: event.id },
        },
      ]);
      return;
    }

    const change = await findRelatedChange(client.table, {
      provider: o.provider,
      project: o.project,
      changeNumber: o.changeNumber,
      correlationId: o.correlationId,
      commitSha: o.commit.sha,
    });
    const vars = occurrenceVars(o);
    const templated: Record<string, string | undefined> = {
      category: policy.category,
      subcategory: policy.subcategory,
      assignment_group: policy.assignmentGroup,
      caller_id: policy.callerId,
      cmdb_ci: policy.cmdbCi,
      ...policy.fields,
    };
    const fields: Record<string, string> = {
      short_description: policy.shortDescription
        ? render(policy.shortDescription, vars).slice(0, 160)
        : shortDescriptionOf(o),
      description: descriptionOf(o),
      impact: String(policy.impact),
      urgency: String(policy.urgency),
      correlation_id: o.fingerprint,
      [policy.countField]: '1',
      work_notes: firstNoteOf(event.id),
    };
    for (const [field, template] of Object.entries(templated)) {
      const value = template === undefined ? '' : render(template, vars);
      if (value !== '') fields[field] = value;
    }
    if (change?.sys_id) fields[policy.changeField] = change.sys_id;
    // correlation_id travels as a field, not as the client's correlationId option: that option
    // would recover an unknown outcome by looking up *any* record with this id, and a resolved
    // incident of an earlier episode shares it. The next attempt looks up open ones instead.
    const incident = await client.table.create(TABLE, fields);
    ctx.log.info({ number: incident.number, fingerprint: o.fingerprint }, 'incident filed');
    await audit([
      {
        ...base,
        key: incident.number ?? o.fingerprint,
        action: 'incident.created',
        reason: `${whatFailed(o)} failed (policy ${policy.name})`,
        detail: {
          sysId: incident.sys_id,
          eventId: event.id,
          ...(change ? { change: change.number, changeField: policy.changeField } : {}),
        },
      },
    ]);
  }

  async function onSuccess(o: Occurrence, policy: IncidentPolicy, ctx: HandlerContext) {
    if (!policy.resolveOnSuccess) return;
    const client = servicenow.clientFor(policy.connection);
    const open = await openIncidents(client, o, policy);
    if (open.length === 0) return;
    const notes = render(policy.closeNotes, occurrenceVars(o));
    const entries: AuditEntry[] = [];
    for (const incident of open) {
      if (!incident.sys_id) continue;
      // No journal field here: a retried PATCH of state and close data writes the same values.
      await client.table.patch(TABLE, incident.sys_id, {
        state: '6',
        close_code: policy.closeCode,
        close_notes: notes,
      });
      ctx.log.info({ number: incident.number }, 'incident resolved');
      entries.push({
        key: incident.number ?? o.fingerprint,
        actor: ACTOR,
        action: 'incident.resolved',
        correlationId: o.fingerprint,
        reason: `${whatFailed(o)} succeeded`,
        detail: { sysId: incident.sys_id, closeCode: policy.closeCode },
      });
    }
    await audit(entries);
  }

  return {
    name: 'incident',
    topics: [topics.cicd],
    events: eventRouter<HandlerContext>().on(OCCURRENCE_TYPES, async (event, ctx) => {
      const o = occurrenceOf(event);
      if (!o) return;
      const policy = resolveIncidentPolicy(config.incidents.policies, o);
      if (!policy) return;
      await serial(o.fingerprint, () =>
        o.outcome === 'failed' ? onFailure(o, policy, event, ctx) : onSuccess(o, policy, ctx),
      );
    }),
  };
}

const whatFailed = (o: Occurrence) =>
  o.kind === 'deployment'
    ? `deployment of ${o.project} to ${o.environment}`
    : `pipeline ${o.target} of ${o.project}`;
