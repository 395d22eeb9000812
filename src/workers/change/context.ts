import { toRecord } from '../../bus/cloudevents.js';
import type { Bus, BusRecord } from '../../bus/port.js';
import type { CommitLookup } from '../../ci/commits.js';
import { auditRecord } from '../../audit/auditor.js';
import type { ChangePolicy } from '../../config/changes.js';
import type { Config } from '../../config/schema.js';
import { buildEvent, type NormalizedEvent } from '../../events/build.js';
import type { DeploymentData } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';
import { resolvePolicy, templateVars } from '../../policy/resolve.js';
import { render } from '../../policy/template.js';
import type { ServiceNowClient, ServiceNowClients, SnRecord } from '../../servicenow/index.js';
import type { HandlerContext } from '../runtime/index.js';
import { linkVerdict } from './link.js';

/**
 * What the change worker's handlers share: the options, the one way they publish (events and
 * audit lines together, ids derived from the input event), and how a deployment finds its CR.
 *
 * @module
 */

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

export type AuditLine = Parameters<typeof auditRecord>[1];

export const TABLE = 'change_request';
const SOURCE = '/changegate/worker/change';

export type ChangeContext = ReturnType<typeof changeContext>;

export function changeContext(options: ChangeWorkerOptions) {
  const { config, bus, servicenow, clock = Date.now } = options;
  const topics = config.kafka.topics;

  const publish = (events: NormalizedEvent[], audits: AuditLine[], idBase: string) => {
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
    options,
    config,
    servicenow,
    clock,
    publish,
    action,
    findNamed,
    crCorrelation,
    crOf,
    skip,
  };
}
