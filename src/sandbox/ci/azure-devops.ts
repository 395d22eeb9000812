import { randomBytes, randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { credential, fault, open, reply, type Exchange } from './http.js';
import type { Recorder } from './recorder.js';

/**
 * Emulated Azure DevOps plan events for "Invoke REST API" checks in callback mode. Each pending
 * check gets its own AuthToken, accepted as Basic (any user, token as password) or Bearer.
 */

export interface AzurePendingCheck {
  /** The events URL, as the receivers build it from the check's headers. */
  url: string;
  authToken: string;
  params: {
    planId: string;
    jobId: string;
    taskInstanceId: string;
    timelineId: string;
    hubName: string;
    projectId: string;
  };
}

export interface AzureEmulator {
  pending(hubName?: string): AzurePendingCheck;
  /** `succeeded`/`failed` once completed; `waiting` before. */
  state(planId: string): 'waiting' | 'succeeded' | 'failed' | undefined;
}

interface Check {
  token: string;
  jobId: string;
  taskInstanceId: string;
  state: 'waiting' | 'succeeded' | 'failed';
}

const BASE = '/:project/_apis/distributedtask/hubs/:hub/plans/:plan';

/** Mount the emulated Azure DevOps plan events and timeline feed routes on `app`; returns the handle that registers pending gates. */
export function mountAzureDevops(
  app: Hono,
  rec: Recorder,
  opts: { baseUrl: () => string },
): AzureEmulator {
  const checks = new Map<string, Check>();

  /** Common gate of both routes: fault, auth, preview api-version. */
  function guard(x: Exchange, check: Check | undefined): Response | undefined {
    const injected = fault(x);
    if (injected) return injected;
    if (!check)
      return reply(x, 404, 'refused', { message: 'TaskOrchestrationPlanNotFoundException' });
    if (credential(x.c.req.header('authorization')).secret !== check.token) {
      return reply(x, 401, 'refused', 'Access Denied: the AuthToken is not valid for this plan');
    }
    const version = x.c.req.query('api-version') ?? '';
    if (!version.includes('-preview')) {
      return reply(x, 400, 'refused', {
        message: `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests.`,
      });
    }
    return undefined;
  }

  app.post(`${BASE}/events`, async (c) => {
    const x = await open(c, 'azure-devops', rec);
    const check = checks.get(c.req.param('plan'));
    const refused = guard(x, check);
    if (refused || !check) return refused;
    const body = (x.body ?? {}) as Record<string, unknown>;
    if (
      body.name !== 'TaskCompleted' ||
      body.jobId !== check.jobId ||
      body.taskId !== check.taskInstanceId ||
      (body.result !== 'succeeded' && body.result !== 'failed')
    ) {
      return reply(x, 400, 'refused', { message: 'invalid job event' });
    }
    if (check.state !== 'waiting') return reply(x, 200, 'duplicate');
    check.state = body.result;
    return reply(x, 200, body.result === 'succeeded' ? 'released' : 'rejected');
  });

  app.post(`${BASE}/timelines/:timeline/records/:record/feed`, async (c) => {
    const x = await open(c, 'azure-devops', rec);
    const check = checks.get(c.req.param('plan'));
    return guard(x, check) ?? reply(x, 200, 'comment');
  });

  return {
    pending(hubName = 'checks') {
      const params = {
        planId: randomUUID(),
        jobId: randomUUID(),
        taskInstanceId: randomUUID(),
        timelineId: randomUUID(),
        hubName,
        projectId: randomUUID(),
      };
      const authToken = `azdo_${randomBytes(24).toString('base64url')}`;
      checks.set(params.planId, {
        token: authToken,
        jobId: params.jobId,
        taskInstanceId: params.taskInstanceId,
        state: 'waiting',
      });
      // PlanUrl ends with "/"; the receivers append ProjectId to it.
      const url = `${opts.baseUrl()}/${params.projectId}/_apis/distributedtask/hubs/${hubName}/plans/${params.planId}/events?api-version=7.1`;
      return { url, authToken, params };
    },
    state: (planId) => checks.get(planId)?.state,
  };
}
