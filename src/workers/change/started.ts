import type { NormalizedEvent } from '../../events/build.js';
import type { DeploymentData } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import { CHANGE_STATE } from '../../servicenow/index.js';
import type { HandlerContext } from '../runtime/index.js';
import { TABLE, type ChangeContext } from './context.js';

/**
 * `deployment.started`: move the CR to Implement when policy says so; a work note with the run
 * link either way.
 *
 * @module
 */
export function onStarted({ crOf, skip, action, publish }: ChangeContext) {
  return async function started(d: DeploymentData, event: CloudEvent, ctx: HandlerContext) {
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
  };
}
