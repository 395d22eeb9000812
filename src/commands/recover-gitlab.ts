import { toRecord } from '../bus/cloudevents.js';
import type { Bus } from '../bus/port.js';
import { failure, send, type HttpDeps } from '../ci/http.js';
import type { Config } from '../config/schema.js';
import { buildEvent, captureRaw, type NormalizedEvent } from '../events/index.js';
import type { DeploymentData } from '../events/cicd.js';
import type { CrState } from '../gate/machine.js';
import { crStateOfRecord } from '../workers/gate/state-record.js';
import type { Logger } from '../log.js';
import { gitlabInstanceUrl, waitingJobEvent } from '../providers/gitlab/receiver/index.js';
import { gateIdOf } from '../workers/change/index.js';

/**
 * `changegate recover gitlab`: gates whose Pipeline Hook never reached changegate (receiver down,
 * hook disabled) are found again from GitLab itself. For each configured project it lists the
 * deployments waiting (`GET /projects/:id/deployments?status=blocked`, doc/api/deployments.md),
 * keeps those GitLab holds for approval (`pending_approval_count > 0` on the deployment; a
 * `blocked` deployment is also any plain manual job: `Deployment#sync_status_with`), and
 * publishes for each the same `deployment.requested` event the receiver makes of the Pipeline
 * Hook. A gate already registered (in the gate state) is skipped, so a second run publishes
 * nothing new; the event id is derived from the job, so a copy that does slip through twice is
 * one gate all the same (the change worker maps a repeated request to the same gate). On demand,
 * never on a timer.
 *
 * @module
 */

const PREFIX = '[changegate/recover/gitlab]';
const PER_PAGE = 100;
/** A project with more blocked deployments than this is read only this far (newest first). */
const MAX_PAGES = 10;

interface ProjectEntity {
  id: number;
  path_with_namespace: string;
  web_url: string;
}

interface DeploymentEntity {
  id: number;
  status: string;
  ref?: string;
  sha?: string;
  environment?: { name?: string };
  user?: { username?: string };
  deployable?: {
    id: number;
    name?: string;
    status?: string;
    commit?: { message?: string; title?: string };
    user?: { username?: string };
  } | null;
  pending_approval_count?: number;
}

export interface RecoverGitlabResult {
  projects: number;
  /** Deploy jobs GitLab holds for approval. */
  waiting: number;
  /** Published now. */
  registered: number;
  /** Already a gate. */
  known: number;
}

export interface RecoverGitlabOptions {
  config: Config;
  bus: Bus;
  log: Logger;
  fetchImpl?: typeof fetch;
  /** Report what would be registered, publish nothing. */
  dryRun?: boolean;
  /** One line per job found, for the operator. */
  write?: (line: string) => void;
}

async function knownGates(bus: Bus, topic: string): Promise<Set<string>> {
  const states = new Map<string, CrState>();
  await bus.readToEnd(topic, (record) => {
    if (!record.key) return;
    const state = crStateOfRecord(record.value);
    if (state === null) states.delete(record.key);
    else if (state) states.set(record.key, state);
  });
  return new Set([...states.values()].flatMap((s) => Object.keys(s.gates)));
}

/** @throws UpstreamError when GitLab cannot be read (nothing is published for that project). */
export async function recoverGitlab({
  config,
  bus,
  log,
  fetchImpl = fetch,
  dryRun = false,
  write = () => {},
}: RecoverGitlabOptions): Promise<RecoverGitlabResult> {
  const http: HttpDeps = { fetchImpl, timeoutMs: config.ci.timeoutMs };
  const known = await knownGates(bus, config.kafka.topics.gateState);
  const result: RecoverGitlabResult = { projects: 0, waiting: 0, registered: 0, known: 0 };
  const events: NormalizedEvent[] = [];

  for (const [host, entry] of Object.entries(config.ci.gitlab)) {
    const root = entry.url ?? `https://${host}`;
    const get = async <T>(path: string): Promise<{ body: T; next: string }> => {
      const reply = await send(http, 'gitlab', `${root}/api/v4${path}`, {
        method: 'GET',
        headers: { 'private-token': entry.token, accept: 'application/json' },
      });
      if (reply.status !== 200) {
        throw failure('gitlab', reply, {
          401: `token invalid or expired: check ci.gitlab.${host}.token`,
          403: 'the token cannot read deployments (scope read_api or api, role Reporter+)',
          404: 'project not found, or the token cannot see it',
        });
      }
      return { body: JSON.parse(reply.text) as T, next: reply.headers.get('x-next-page') ?? '' };
    };

    for (const ref of entry.projects) {
      result.projects += 1;
      const { body: project } = await get<ProjectEntity>(`/projects/${encodeURIComponent(ref)}`);
      const base = gitlabInstanceUrl(null, project.web_url, project.path_with_namespace);
      const api = `/projects/${project.id}`;
      for (let page = 1; page <= MAX_PAGES; page += 1) {
        const query = `status=blocked&order_by=id&sort=desc&per_page=${PER_PAGE}&page=${page}`;
        const { body: list, next } = await get<DeploymentEntity[]>(`${api}/deployments?${query}`);
        for (const listed of list) {
          const job = listed.deployable;
          if (!job || job.status !== 'manual' || !listed.environment?.name) continue;
          const { body: d } = await get<DeploymentEntity>(`${api}/deployments/${listed.id}`);
          if (!d.pending_approval_count || d.pending_approval_count <= 0) continue;
          result.waiting += 1;
          const deliveryId = `recover-gitlab-${host}-${project.id}-job-${job.id}`;
          const text = JSON.stringify(d);
          const event = waitingJobEvent({
            origin: {
              provider: 'gitlab',
              project: project.path_with_namespace,
              event: 'recover gitlab',
              deliveryId,
              raw: captureRaw(d, Buffer.byteLength(text), config.ingest.rawMaxBytes),
            },
            base,
            projectId: String(project.id),
            webUrl: project.web_url,
            jobId: String(job.id),
            jobName: job.name ?? `job ${job.id}`,
            environment: listed.environment.name,
            sha: d.sha,
            ref: d.ref,
            message: job.commit?.message ?? job.commit?.title,
            actor: job.user?.username ?? d.user?.username,
          });
          const gateId = gateIdOf(event.data as DeploymentData);
          const line = `${project.path_with_namespace} job ${job.id} (${listed.environment.name})`;
          if (known.has(gateId)) {
            result.known += 1;
            write(`${line}: already a gate`);
            continue;
          }
          result.registered += 1;
          write(`${line}: ${dryRun ? 'would register' : 'registering'}`);
          events.push(event);
        }
        if (!next) break;
      }
    }
  }

  if (!dryRun && events.length > 0) {
    await bus.publish(
      events.map((e) => {
        const id = (e.data as { deliveryId: string }).deliveryId;
        return toRecord(
          config.kafka.topics.cicd,
          buildEvent(e, { id, source: '/changegate/recover/gitlab', time: new Date() }),
        );
      }),
    );
  }
  log.info({ ...result, dryRun }, `${PREFIX} done`);
  return result;
}
