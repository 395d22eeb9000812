import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { fault, open, reply, type Exchange } from '../../sandbox/ci/http.js';
import type { Recorder } from '../../sandbox/ci/recorder.js';

/**
 * Emulated GitLab (Premium/Ultimate) for a deploy job to a protected environment with deployment
 * approvals: the pipeline, its deploy job, the job's deployment, the REST routes a gate needs and
 * the webhooks GitLab sends while that happens. Sources (gitlab-org/gitlab, read from the
 * gitlabhq/gitlabhq mirror):
 * - `app/models/deployment.rb`: states created → blocked → running → success|failed|canceled;
 *   `sync_status_with(job)` maps a `manual` job to a `blocked` deployment; hooks fire only
 *   `after_transition any => :running` and `any => FINISHED_STATUSES` (success, failed, canceled),
 *   so no Deployment Hook ever says `blocked`.
 * - `ee/app/services/deployments/approval_service.rb`: validation order and messages; a rejection
 *   drops the job (`deployment_rejected`); with approval rules an approval leaves the job manual
 *   ("Executors can later run the manual job"); without rules the last approval enqueues it.
 * - `ee/app/models/concerns/ee/ci/deployable.rb` + `app/models/ci/build.rb` `playable?`: a manual
 *   job waiting for approval is not playable.
 * - `lib/api/ci/jobs.rb` `POST :id/jobs/:job_id/play`: `bad_request!("Unplayable Job")`, 200 with
 *   the job.
 * - `doc/api/deployments.md`: `GET /projects/:id/deployments` (`status`, `environment`,
 *   `order_by`, `sort`, offset pagination headers), `GET …/deployments/:id`,
 *   `POST …/deployments/:id/approval`.
 * - `doc/user/project/integrations/webhook_events.md`: Pipeline Hook and Deployment Hook fields.
 * Not modelled: retrying a failed job through `play` (GitLab's `playable?` also admits
 * `retryable?` jobs), the approval webhook of newer releases, multiple approval rules per group.
 */

export type JobStatus = 'manual' | 'running' | 'success' | 'failed' | 'canceled';
export type DeploymentStatus = 'blocked' | 'running' | 'success' | 'failed' | 'canceled';

export interface GitlabApproval {
  user: { id: number; username: string; name: string };
  status: 'approved' | 'rejected';
  comment: string | null;
  created_at: string;
}

export interface GitlabDeploymentState {
  id: number;
  iid: number;
  projectId: number;
  environment: string;
  jobId: number;
  status: DeploymentStatus;
  requiredApprovals: number;
  approvals: GitlabApproval[];
}

export interface GitlabJobState {
  id: number;
  name: string;
  status: JobStatus;
  failureReason: string | null;
  /** Times `play` started it (at most 1 here: retries are not modelled). */
  plays: number;
}

export interface GitlabPipelineOptions {
  projectId?: number;
  projectPath?: string;
  environment?: string;
  ref?: string;
  sha?: string;
  commitMessage?: string;
  /** Approvals the protected environment requires (0: not configured). Default 1. */
  requiredApprovals?: number;
  /** Environment protected at all. Default true. */
  protected?: boolean;
  /** Approval rules (current GitLab) or the legacy required-approval count. Default true. */
  approvalRules?: boolean;
  /** How the job ends once it runs. Default success. */
  outcome?: 'success' | 'failed';
  /** Send the Pipeline Hook to the hook target now. Default true. */
  deliver?: boolean;
}

export interface GitlabPipeline {
  projectId: number;
  projectPath: string;
  pipelineId: number;
  jobId: number;
  deploymentId: number;
  environment: string;
  /** The Pipeline Hook payload GitLab sends while the deploy job is manual. */
  hook: Record<string, unknown>;
}

export interface GitlabHookDelivery {
  event: 'Pipeline Hook' | 'Deployment Hook';
  payload: Record<string, unknown>;
  /** HTTP status of the receiver, or 0 when the request failed. */
  status: number;
}

export interface GitlabEmulator {
  /** A pipeline whose deploy job waits for approval; delivers its Pipeline Hook when a target is set. */
  pipeline(options?: GitlabPipelineOptions): Promise<GitlabPipeline>;
  /** Where GitLab's project webhook points (pipeline + deployment events), with its secret token. */
  hooks(target: { url: string; token: string } | undefined): void;
  deployment(projectId: number, deploymentId: number): GitlabDeploymentState | undefined;
  job(projectId: number, jobId: number): GitlabJobState | undefined;
  /** Every hook the emulator sent, oldest first. */
  deliveries(): GitlabHookDelivery[];
  /** Settle once every hook sent so far got an answer. */
  idle(): Promise<void>;
}

interface Project {
  id: number;
  path: string;
}

interface Pipeline {
  id: number;
  iid: number;
  project: Project;
  ref: string;
  sha: string;
  message: string;
  createdAt: string;
}

interface Job extends GitlabJobState {
  pipeline: Pipeline;
  stage: string;
  environment: string;
  outcome: 'success' | 'failed';
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface Deployment extends GitlabDeploymentState {
  protected: boolean;
  approvalRules: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The user the emulator's token belongs to. */
const TOKEN_USER = { id: 42, username: 'changegate', name: 'changegate', state: 'active' };
/** The user who pushed: deployments are theirs, so changegate's approval is not a self-approval. */
const PUSHER = {
  id: 7,
  username: 'mona',
  name: 'Mona Lisa',
  avatar_url: null,
  email: '[REDACTED]',
};
const MAX_PER_PAGE = 100;

/** `2021-04-28 21:50:00 +0000`, the format of the docs' `status_changed_at` and `created_at`. */
function gitlabTime(at = new Date()): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

/** Mount the emulated GitLab routes on `app`. */
export function mountGitlab(
  app: Hono,
  rec: Recorder,
  opts: { token: string; baseUrl: () => string; runMs?: number },
): GitlabEmulator {
  const runMs = opts.runMs ?? 30;
  const projects = new Map<number, Project>();
  const jobs = new Map<number, Job>();
  const deployments = new Map<number, Deployment>();
  const sent: GitlabHookDelivery[] = [];
  const inFlight = new Set<Promise<void>>();
  let target: { url: string; token: string } | undefined;
  let nextId = 1000;

  const webUrl = (p: Project) => `${opts.baseUrl()}/${p.path}`;

  // --- webhooks (webhook_events.md field names) ---------------------------------------------

  function deliver(event: GitlabHookDelivery['event'], payload: Record<string, unknown>): void {
    if (!target) return;
    const { url, token } = target;
    const delivery: GitlabHookDelivery = { event, payload, status: 0 };
    sent.push(delivery);
    const id = randomUUID();
    const p = fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitLab/18.4.0',
        'x-gitlab-event': event,
        'x-gitlab-token': token,
        'x-gitlab-instance': opts.baseUrl(),
        'x-gitlab-webhook-uuid': randomUUID(),
        'x-gitlab-event-uuid': id,
        'idempotency-key': id,
      },
      body: JSON.stringify(payload),
    })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer();
      })
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  function projectJson(p: Project) {
    return {
      id: p.id,
      name: p.path.split('/').pop(),
      description: '',
      web_url: webUrl(p),
      avatar_url: null,
      git_ssh_url: `git@127.0.0.1:${p.path}.git`,
      git_http_url: `${webUrl(p)}.git`,
      namespace: p.path.split('/')[0],
      visibility_level: 0,
      path_with_namespace: p.path,
      default_branch: 'main',
    };
  }

  function pipelineStatus(job: Job): string {
    // A blocking manual job holds the pipeline in `manual` (allow_failure: false).
    return job.status === 'manual' ? 'manual' : job.status;
  }

  function pipelineHook(job: Job): Record<string, unknown> {
    const pl = job.pipeline;
    const done = ['success', 'failed', 'canceled'].includes(job.status);
    return {
      object_kind: 'pipeline',
      object_attributes: {
        id: pl.id,
        iid: pl.iid,
        name: `Pipeline for branch: ${pl.ref}`,
        ref: pl.ref,
        tag: false,
        sha: pl.sha,
        before_sha: '0000000000000000000000000000000000000000',
        source: 'push',
        status: pipelineStatus(job),
        stages: ['deploy'],
        created_at: pl.createdAt,
        finished_at: done ? job.finishedAt : null,
        duration: null,
        variables: [],
        url: `${webUrl(pl.project)}/-/pipelines/${pl.id}`,
      },
      user: PUSHER,
      project: projectJson(pl.project),
      commit: {
        id: pl.sha,
        message: pl.message,
        title: pl.message.split('\n')[0],
        timestamp: pl.createdAt,
        url: `${webUrl(pl.project)}/-/commit/${pl.sha}`,
        author: { name: PUSHER.name, email: PUSHER.email },
      },
      builds: [
        {
          id: job.id,
          stage: job.stage,
          name: job.name,
          status: job.status,
          created_at: job.createdAt,
          started_at: job.startedAt,
          finished_at: job.finishedAt,
          duration: null,
          queued_duration: null,
          failure_reason: job.failureReason,
          // process_build_service.rb sets `when = 'manual'` on a job held for approval.
          when: 'manual',
          manual: true,
          allow_failure: false,
          user: PUSHER,
          runner: null,
          artifacts_file: { filename: null, size: null },
          environment: { name: job.environment, action: 'start', deployment_tier: 'production' },
        },
      ],
    };
  }

  function deploymentHook(d: Deployment, job: Job): Record<string, unknown> {
    const p = job.pipeline.project;
    return {
      object_kind: 'deployment',
      status: d.status,
      status_changed_at: gitlabTime(),
      deployment_id: d.id,
      deployable_id: job.id,
      deployable_url: `${webUrl(p)}/-/jobs/${job.id}`,
      environment: d.environment,
      environment_tier: 'production',
      environment_slug: d.environment,
      environment_external_url: null,
      project: projectJson(p),
      short_sha: job.pipeline.sha.slice(0, 8),
      user: PUSHER,
      user_url: `${opts.baseUrl()}/${PUSHER.username}`,
      commit_url: `${webUrl(p)}/-/commit/${job.pipeline.sha}`,
      commit_title: job.pipeline.message.split('\n')[0],
    };
  }

  // --- state machine ------------------------------------------------------------------------

  /** Job transition, the deployment following it (`Deployment#sync_status_with`) and the hooks. */
  function transition(job: Job, status: JobStatus, failureReason: string | null = null): void {
    job.status = status;
    const now = gitlabTime();
    if (status === 'running') job.startedAt = now;
    if (status === 'success' || status === 'failed' || status === 'canceled') {
      job.finishedAt = now;
      job.failureReason = failureReason;
    }
    const d = [...deployments.values()].find((x) => x.jobId === job.id);
    // sync_status_with: a manual job is a blocked deployment.
    const synced: DeploymentStatus = status === 'manual' ? 'blocked' : status;
    if (d && d.status !== synced) {
      d.status = synced;
      d.updatedAt = new Date().toISOString();
      // Hooks only on `any => :running` and `any => FINISHED_STATUSES` (deployment.rb).
      deliver('Deployment Hook', deploymentHook(d, job));
    }
    // The pipeline hook fires on every pipeline status change.
    deliver('Pipeline Hook', pipelineHook(job));
  }

  function start(job: Job): void {
    job.plays += 1;
    transition(job, 'running');
    setTimeout(() => {
      if (job.status === 'running')
        transition(job, job.outcome, job.outcome === 'failed' ? 'script_failure' : null);
    }, runMs).unref?.();
  }

  const pendingApprovals = (d: Deployment) =>
    d.protected && d.requiredApprovals > 0
      ? Math.max(0, d.requiredApprovals - d.approvals.filter((a) => a.status === 'approved').length)
      : 0;
  /** `EE::Deployment#waiting_for_approval?`: blocked with approvals still pending. */
  const waiting = (d: Deployment) => d.status === 'blocked' && pendingApprovals(d) > 0;

  // --- REST entities (doc/api/deployments.md, doc/api/jobs.md) ------------------------------

  function jobJson(job: Job) {
    const p = job.pipeline.project;
    return {
      id: job.id,
      status: job.status,
      stage: job.stage,
      name: job.name,
      ref: job.pipeline.ref,
      tag: false,
      coverage: null,
      allow_failure: false,
      created_at: job.createdAt,
      started_at: job.startedAt,
      finished_at: job.finishedAt,
      failure_reason: job.failureReason ?? undefined,
      user: { ...PUSHER, state: 'active', web_url: `${opts.baseUrl()}/${PUSHER.username}` },
      commit: {
        id: job.pipeline.sha,
        short_id: job.pipeline.sha.slice(0, 8),
        title: job.pipeline.message.split('\n')[0],
      },
      pipeline: {
        id: job.pipeline.id,
        iid: job.pipeline.iid,
        project_id: p.id,
        ref: job.pipeline.ref,
        sha: job.pipeline.sha,
        status: pipelineStatus(job),
        web_url: `${webUrl(p)}/-/pipelines/${job.pipeline.id}`,
      },
      web_url: `${webUrl(p)}/-/jobs/${job.id}`,
      project: { ci_job_token_scope_enabled: false },
    };
  }

  function deploymentJson(d: Deployment, detailed: boolean) {
    const job = jobs.get(d.jobId)!;
    return {
      id: d.id,
      iid: d.iid,
      ref: job.pipeline.ref,
      sha: job.pipeline.sha,
      created_at: d.createdAt,
      updated_at: d.updatedAt,
      status: d.status,
      user: { ...PUSHER, state: 'active' },
      environment: { id: d.projectId * 10, name: d.environment, external_url: null },
      deployable: jobJson(job),
      ...(detailed
        ? {
            pending_approval_count: pendingApprovals(d),
            approvals: d.approvals.map((a) => ({ ...a, user: { ...a.user, state: 'active' } })),
          }
        : {}),
    };
  }

  // --- routes -------------------------------------------------------------------------------

  /** Authenticate (PRIVATE-TOKEN or OAuth Bearer) and find the project (`:id` or its path). */
  async function enter(c: Context): Promise<{ x: Exchange; early?: Response; project?: Project }> {
    const x = await open(c, 'gitlab', rec);
    const injected = fault(x);
    if (injected) return { x, early: injected };
    const given =
      c.req.header('private-token') ?? c.req.header('authorization')?.replace(/^Bearer /i, '');
    if (given !== opts.token) {
      return { x, early: reply(x, 401, 'refused', { message: '401 Unauthorized' }) };
    }
    const ref = c.req.param('id') ?? '';
    const project = [...projects.values()].find((p) => String(p.id) === ref || p.path === ref);
    if (!project)
      return { x, early: reply(x, 404, 'refused', { message: '404 Project Not Found' }) };
    return { x, project };
  }

  // doc/api/projects.md `GET /projects/:id` (a few of its fields).
  app.get('/api/v4/projects/:id', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    return reply(x, 200, 'read', projectJson(project!));
  });

  app.get('/api/v4/projects/:id/deployments', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    const q = (n: string) => c.req.query(n);
    const status = q('status');
    const statuses = ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'];
    if (status && !statuses.includes(status)) {
      return reply(x, 400, 'refused', { error: 'status does not have a valid value' });
    }
    const orderBy = q('order_by') ?? 'id';
    const desc = q('sort') === 'desc';
    const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(q('per_page') ?? 20) || 20));
    const page = Math.max(1, Number(q('page') ?? 1) || 1);
    const all = [...deployments.values()]
      .filter((d) => d.projectId === project!.id)
      .filter((d) => !status || d.status === status)
      .filter((d) => !q('environment') || d.environment === q('environment'))
      .sort((a, b) => {
        const key = (d: Deployment) =>
          orderBy === 'iid'
            ? d.iid
            : orderBy === 'id'
              ? d.id
              : d[orderBy === 'updated_at' ? 'updatedAt' : 'createdAt'];
        const [ka, kb] = [key(a), key(b)];
        return (ka < kb ? -1 : ka > kb ? 1 : 0) * (desc ? -1 : 1);
      });
    const pages = Math.max(1, Math.ceil(all.length / perPage));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    return reply(
      x,
      200,
      'read',
      slice.map((d) => deploymentJson(d, false)),
      {
        'x-total': String(all.length),
        'x-total-pages': String(pages),
        'x-per-page': String(perPage),
        'x-page': String(page),
        'x-next-page': page < pages ? String(page + 1) : '',
        'x-prev-page': page > 1 ? String(page - 1) : '',
      },
    );
  });

  app.get('/api/v4/projects/:id/deployments/:dep', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    const d = deployments.get(Number(c.req.param('dep')));
    if (!d || d.projectId !== project!.id) {
      return reply(x, 404, 'refused', { message: '404 Not found' });
    }
    return reply(x, 200, 'read', deploymentJson(d, true));
  });

  app.post('/api/v4/projects/:id/deployments/:dep/approval', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    const d = deployments.get(Number(c.req.param('dep')));
    if (!d || d.projectId !== project!.id) {
      return reply(x, 404, 'refused', { message: '404 Deployment Not Found' });
    }
    const { status, comment } = (x.body ?? {}) as { status?: string; comment?: string };
    // ee/lib/ee/api/deployments.rb: `requires :status, values: %w[approved rejected]`.
    if (status !== 'approved' && status !== 'rejected') {
      return reply(x, 400, 'refused', { error: 'status does not have a valid value' });
    }
    // Deployments::ApprovalService#validate, in its order; errors are render_api_error!(…, 400).
    const refuse = (message: string) => reply(x, 400, 'not-pending', { message });
    if (!d.protected) return refuse('This environment is not protected.');
    if (d.requiredApprovals === 0) {
      return refuse('Deployment approvals is not configured for this environment.');
    }
    if (!waiting(d)) return refuse('This deployment is not waiting for approvals.');

    const job = jobs.get(d.jobId)!;
    const existing = d.approvals.find((a) => a.user.id === TOKEN_USER.id);
    const approval: GitlabApproval = existing ?? {
      user: { id: TOKEN_USER.id, username: TOKEN_USER.username, name: TOKEN_USER.name },
      status,
      comment: comment ?? null,
      created_at: new Date().toISOString(),
    };
    if (existing) Object.assign(existing, { status, comment: comment ?? null });
    else d.approvals.push(approval);

    if (status === 'rejected') {
      transition(job, 'failed', 'deployment_rejected');
    } else if (!d.approvalRules && pendingApprovals(d) === 0) {
      // Legacy required-approval count: the last approval enqueues the job itself.
      start(job);
    }
    // With approval rules the job stays manual until someone allowed to deploy plays it.
    return reply(x, 201, status === 'approved' ? 'approved' : 'rejected', {
      ...approval,
      user: { ...approval.user, state: 'active' },
    });
  });

  app.get('/api/v4/projects/:id/jobs/:job', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    const job = jobs.get(Number(c.req.param('job')));
    if (!job || job.pipeline.project.id !== project!.id) {
      return reply(x, 404, 'refused', { message: '404 Not found' });
    }
    return reply(x, 200, 'read', jobJson(job));
  });

  app.post('/api/v4/projects/:id/jobs/:job/play', async (c) => {
    const { x, early, project } = await enter(c);
    if (early) return early;
    const job = jobs.get(Number(c.req.param('job')));
    if (!job || job.pipeline.project.id !== project!.id) {
      return reply(x, 404, 'refused', { message: '404 Not found' });
    }
    const d = [...deployments.values()].find((y) => y.jobId === job.id);
    // playable? = manual && !waiting_for_deployment_approval?
    if (job.status !== 'manual' || (d && waiting(d))) {
      return reply(x, 400, 'not-pending', { message: '400 Bad request - Unplayable Job' });
    }
    start(job);
    return reply(x, 200, 'released', jobJson(job));
  });

  return {
    async pipeline(o = {}) {
      const projectId = o.projectId ?? 30;
      const project = projects.get(projectId) ?? {
        id: projectId,
        path: o.projectPath ?? 'acme/payments',
      };
      projects.set(projectId, project);
      const createdAt = gitlabTime();
      const pl: Pipeline = {
        id: ++nextId,
        iid: nextId - 1000,
        project,
        ref: o.ref ?? 'main',
        sha: o.sha ?? randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40),
        message: o.commitMessage ?? 'Add idempotent refunds\n',
        createdAt,
      };
      const job: Job = {
        id: ++nextId,
        name: 'deploy-production',
        stage: 'deploy',
        status: 'manual',
        failureReason: null,
        plays: 0,
        pipeline: pl,
        environment: o.environment ?? 'production',
        outcome: o.outcome ?? 'success',
        createdAt,
        startedAt: null,
        finishedAt: null,
      };
      jobs.set(job.id, job);
      const now = new Date().toISOString();
      const d: Deployment = {
        id: ++nextId,
        iid: nextId - 1000,
        projectId,
        environment: job.environment,
        jobId: job.id,
        // created, then blocked as its job becomes manual (sync_status_with): no hook for either.
        status: 'blocked',
        requiredApprovals: o.requiredApprovals ?? 1,
        approvals: [],
        protected: o.protected ?? true,
        approvalRules: o.approvalRules ?? true,
        createdAt: now,
        updatedAt: now,
      };
      deployments.set(d.id, d);
      const hook = pipelineHook(job);
      if (o.deliver !== false) deliver('Pipeline Hook', hook);
      return {
        projectId,
        projectPath: project.path,
        pipelineId: pl.id,
        jobId: job.id,
        deploymentId: d.id,
        environment: job.environment,
        hook,
      };
    },
    hooks(t) {
      target = t;
    },
    deployment(projectId, deploymentId) {
      const d = deployments.get(deploymentId);
      return d && d.projectId === projectId
        ? { ...d, approvals: d.approvals.map((a) => ({ ...a })) }
        : undefined;
    },
    job(projectId, jobId) {
      const j = jobs.get(jobId);
      return j && j.pipeline.project.id === projectId
        ? {
            id: j.id,
            name: j.name,
            status: j.status,
            failureReason: j.failureReason,
            plays: j.plays,
          }
        : undefined;
    },
    deliveries: () => [...sent],
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
