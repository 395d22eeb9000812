import { NO_COMMIT_LOOKUP } from '../../ci/commits.js';
import { eventRouter, type HandlerContext, type WorkerDefinition } from '../runtime/index.js';
import { withCommitReference } from './commit-reference.js';
import { changeContext, type ChangeWorkerOptions } from './context.js';
import { onFinished } from './finished.js';
import { onRequested } from './requested.js';
import { onStarted } from './started.js';

export type { ChangeWorkerOptions } from './context.js';
export { gateIdOf } from './gates.js';

/**
 * The change worker: deployments in, change requests out — policy only; the CR lifecycle
 * (states, transitions, close) is the ServiceNow client's (src/servicenow/change-lifecycle.ts),
 * and the gate worker alone calls CI systems back.
 *
 * - requested (requested.ts): find-or-create the CR, register the gate, or decide it at once.
 * - started (started.ts): Implement per policy, work note.
 * - succeeded / failed (finished.ts): work note, close or follow-up.
 *
 * It never writes to a CR it cannot identify: no correlation match and no named number means
 * the event is audited and skipped, never an update of "sys_id=undefined".
 */
export function changeWorker(options: ChangeWorkerOptions): WorkerDefinition {
  const commits = options.commits ?? NO_COMMIT_LOOKUP;
  const c = changeContext(options);
  const requested = onRequested(c);
  const started = onStarted(c);
  const finished = onFinished(c);
  // The only commit-lookup call site: fills the commit (message, CR, authors) before any policy use.
  const complete = (data: Parameters<typeof withCommitReference>[0]) =>
    withCommitReference(data, options.config, commits);
  return {
    name: 'change',
    topics: [options.config.kafka.topics.cicd],
    events: eventRouter<HandlerContext>()
      .on('dev.changegate.deployment.requested', async (event, ctx) =>
        requested(await complete(event.data), event, ctx),
      )
      .on('dev.changegate.deployment.started', async (event, ctx) =>
        started(await complete(event.data), event, ctx),
      )
      .on('dev.changegate.deployment.succeeded', async (event, ctx) =>
        finished(await complete(event.data), true, event, ctx),
      )
      .on('dev.changegate.deployment.failed', async (event, ctx) =>
        finished(await complete(event.data), false, event, ctx),
      ),
  };
}
