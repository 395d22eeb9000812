import type { NormalizedEvent } from '../../events/build.js';
import type { DeploymentData } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import { CHANGE_STATE, stateLabel } from '../../servicenow/index.js';
import type { HandlerContext } from '../runtime/index.js';
import { TABLE, type AuditLine, type ChangeContext } from './context.js';

/**
 * `deployment.succeeded` / `deployment.failed`: a work note, then close the CR (successful /
 * unsuccessful) along the instance's transitions, or open a follow-up CR, per policy.
 *
 * @module
 */
export function onFinished({ crOf, skip, action, publish, crCorrelation, options }: ChangeContext) {
  return async function finished(
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
    const audits: AuditLine[] = [
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
  };
}
