import type { ChangePolicy } from '../../config/changes.js';
import type { NormalizedEvent } from '../../events/build.js';
import type { DeploymentData } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import { formatServiceNowTime } from '../../gate/servicenow-time.js';
import { changeKind, resolvePolicy, templateVars } from '../../policy/resolve.js';
import { render } from '../../policy/template.js';
import { CHANGE_STATE, type ServiceNowClient, type SnRecord } from '../../servicenow/index.js';
import type { HandlerContext } from '../runtime/index.js';
import { snapshotFromRecord } from '../gate/servicenow-port.js';
import { TABLE, type ChangeContext } from './context.js';
import { gateOf, predecided } from './gates.js';
import { linkVerdict } from './link.js';

/**
 * `deployment.requested`: find-or-create the CR by `correlation_id` (looked up before any
 * create, and the create itself is retried only after a lookup proves it did not land), then
 * register a gate on `changegate.changes` keyed by the CR number. A deployment decided at the
 * request (not change-controlled, a named CR refused or missing) becomes a `gate.predecided`
 * event: the gate worker alone calls CI systems back.
 *
 * @module
 */

/** Tolerated difference between our clock and the instance's, for sys_created_on bounds. */
const CLOCK_SKEW_MS = 10 * 60_000;

/** When the deployment was requested: the event's time, else now. */
const eventTime = (event: CloudEvent, clock: () => number) => {
  const t = event.time ? Date.parse(event.time) : NaN;
  return Number.isFinite(t) ? t : clock();
};

export function onRequested(c: ChangeContext) {
  const { config, servicenow, clock, options, publish, action, findNamed, crCorrelation } = c;

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

  return async function requested(d: DeploymentData, event: CloudEvent, ctx: HandlerContext) {
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
          clock(),
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
            clock(),
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
            clock(),
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
        predecided(d, { outcome: 'rejected', reason }, clock(), undefined, policy),
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
          ...gateOf(d, clock(), policy),
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
  };
}
