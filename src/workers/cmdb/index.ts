import { auditRecord } from '../../audit/auditor.js';
import type { Bus } from '../../bus/port.js';
import type { Config } from '../../config/schema.js';
import { UpstreamError } from '../../errors.js';
import type { CloudEvent } from '../../events/envelope.js';
import type { ServiceNowClients, SnRecord } from '../../servicenow/index.js';
import type { ReconcileResult } from '../../servicenow/cmdb.js';
import { MissingHostError, reconcilePlan, type Installed } from './payload.js';
import { resolveCmdbPolicy } from './policy.js';
import { journalHas } from '../incident/journal.js';
import { findRelatedChange } from '../incident/related-change.js';
import { eventRouter, type HandlerContext, type WorkerDefinition } from '../runtime/index.js';

export interface CmdbWorkerOptions {
  config: Pick<Config, 'kafka' | 'cmdb'>;
  bus: Bus;
  servicenow: ServiceNowClients;
  clock?: () => number;
}

const ACTOR = 'changegate/cmdb';

/**
 * The CMDB worker: successful deployments (and image builds) in, CIs out.
 *
 * - `deployment.succeeded` under an `application` policy: identifyreconcile the application CI
 *   (name, version) with the configured relations, then a work note on the CR that installed
 *   it naming the CI, its sys_id and version.
 * - `pipeline.succeeded` under an `image` policy (its `match.pipeline` names the image build):
 *   the same for the image CI, related to the application it contains.
 *
 * Idempotency: identifyreconcile identifies the CI it created before (a repeat is NO_CHANGE,
 * a relation that exists is not added again), and the CR note carries a marker of CI and
 * version that is looked up in the journal before writing, so a redelivery writes nothing.
 */
export function cmdbWorker(options: CmdbWorkerOptions): WorkerDefinition {
  const { config, bus, servicenow, clock = Date.now } = options;
  const topics = config.kafka.topics;

  async function register(
    installed: Installed,
    kind: 'application' | 'image',
    change: { correlationId?: string; changeNumber?: string | undefined } | undefined,
    event: CloudEvent,
    ctx: HandlerContext,
  ) {
    const policy = resolveCmdbPolicy(config.cmdb.policies, kind, installed);
    if (!policy) return;
    const client = servicenow.clientFor(policy.connection);
    let plan: ReturnType<typeof reconcilePlan>;
    try {
      plan = reconcilePlan(policy, installed);
    } catch (err) {
      if (!(err instanceof MissingHostError)) throw err;
      // A payload IRE would refuse (MISSING_DEPENDENCY) is not sent; redelivery cannot fix config.
      ctx.log.warn({ policy: policy.name, environment: installed.environment }, err.message);
      await bus.publish([
        auditRecord(
          topics.audit,
          {
            key: change?.correlationId ?? `${installed.provider}/${installed.project}`,
            actor: ACTOR,
            action: `cmdb.${kind}.skipped`,
            reason: err.message,
            ...(change?.correlationId ? { correlationId: change.correlationId } : {}),
            detail: { eventId: event.id, policy: policy.name },
          },
          new Date(clock()),
        ),
      ]);
      return;
    }
    const result = await client.cmdb.identifyReconcile(
      { items: plan.items, relations: plan.relations },
      { dataSource: policy.dataSource },
    );
    const ci = result.items[0];
    const problems = reconcileProblems(result);
    if (!ci?.sysId || problems.length > 0) {
      // ServiceNow answered 200 and refused the payload: the same payload will fail again.
      throw new UpstreamError(
        `[changegate/workers/cmdb] identifyreconcile refused ${plan.ci.className} "${plan.ci.name}" (policy ${policy.name}): ${problems.join('; ') || 'no sys_id returned'}`,
        { retryable: false },
      );
    }

    let cr: SnRecord | undefined;
    let noted = false;
    if (change && policy.noteOnChange) {
      cr = await findRelatedChange(client.table, {
        provider: installed.provider,
        project: installed.project,
        changeNumber: change.changeNumber,
        correlationId: change.correlationId,
        commitSha: installed.commit.sha,
      });
      if (cr?.sys_id) {
        const marker = `[changegate cmdb ${ci.sysId}@${plan.ci.version.replace(/[\^\r\n\]]/g, '_')}]`;
        if (!(await journalHas(client.table, cr.sys_id, marker))) {
          const where = installed.environment ? ` to ${installed.environment}` : '';
          await client.table.addWorkNote(
            'change_request',
            cr.sys_id,
            `changegate: installed ${plan.ci.name}${plan.ci.version ? ` version ${plan.ci.version}` : ''}${where}; CMDB ${plan.ci.className} ${ci.sysId} (${ci.operation ?? 'reconciled'}). ${marker}`,
          );
          noted = true;
        }
      }
    }
    ctx.log.info(
      { ci: plan.ci.name, sysId: ci.sysId, operation: ci.operation, change: cr?.number },
      'CI reconciled',
    );
    await bus.publish([
      auditRecord(
        topics.audit,
        {
          key: cr?.number ?? change?.correlationId ?? `${installed.provider}/${installed.project}`,
          actor: ACTOR,
          action: `cmdb.${kind}.reconciled`,
          reason: `${plan.ci.className} ${plan.ci.name} ${plan.ci.version}: ${ci.operation ?? 'reconciled'} (policy ${policy.name})`,
          ...(change?.correlationId ? { correlationId: change.correlationId } : {}),
          detail: {
            eventId: event.id,
            ci: { ...plan.ci, sysId: ci.sysId, operation: ci.operation },
            related: result.items.slice(1).map((i) => ({ sysId: i.sysId, operation: i.operation })),
            relations: plan.relations.map((r) => r.type),
            ...(cr ? { change: cr.number, noted } : {}),
          },
        },
        new Date(clock()),
      ),
    ]);
  }

  return {
    name: 'cmdb',
    topics: [topics.cicd],
    events: eventRouter<HandlerContext>()
      .on('dev.changegate.deployment.succeeded', async (event, ctx) => {
        const d = event.data;
        await register(
          {
            provider: d.provider,
            project: d.project,
            environment: d.environment,
            pipeline: d.run?.name ?? '',
            commit: d.commit,
            labels: d.labels,
            run: d.run,
          },
          'application',
          { correlationId: d.correlationId, changeNumber: d.changeNumber },
          event,
          ctx,
        );
      })
      .on('dev.changegate.pipeline.succeeded', async (event, ctx) => {
        const d = event.data;
        await register(
          {
            provider: d.provider,
            project: d.project,
            environment: d.environment ?? '',
            pipeline: d.pipeline,
            commit: d.commit,
            labels: [],
            run: d.run,
          },
          'image',
          undefined,
          event,
          ctx,
        );
      }),
  };
}

/** Item and relation errors of an identifyreconcile answer, as readable strings. */
export function reconcileProblems(result: ReconcileResult): string[] {
  const out: string[] = [];
  result.items.forEach((item, i) => {
    for (const e of item.errors)
      out.push(`item ${i}: ${e.error ?? 'ERROR'} ${e.message ?? ''}`.trim());
  });
  result.relations.forEach((raw, i) => {
    const rel = (raw ?? {}) as { errors?: Array<{ error?: string; message?: string }> };
    for (const e of rel.errors ?? [])
      out.push(`relation ${i}: ${e.error ?? 'ERROR'} ${e.message ?? ''}`.trim());
  });
  return out;
}
