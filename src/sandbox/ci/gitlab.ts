import type { Hono } from 'hono';
import { fault, open, reply } from './http.js';
import type { Recorder } from './recorder.js';

/**
 * Emulated GitLab deployment approvals: 201 with the approval while the deployment is blocked;
 * afterwards 400 "This deployment is not waiting for approvals." (Deployments::ApprovalService).
 */

export interface GitlabEmulator {
  /** Register a blocked deployment; returns its approval URL. */
  pending(projectId: string | number, deploymentId: string | number): string;
  state(projectId: string | number, deploymentId: string | number): string | undefined;
}

/** Mount the emulated GitLab deployment-approval route on `app`; returns the handle that registers pending gates. */
export function mountGitlab(
  app: Hono,
  rec: Recorder,
  opts: { token: string; baseUrl: () => string },
): GitlabEmulator {
  const deployments = new Map<string, 'blocked' | 'approved' | 'rejected'>();

  app.post('/api/v4/projects/:id/deployments/:dep/approval', async (c) => {
    const x = await open(c, 'gitlab', rec);
    const injected = fault(x);
    if (injected) return injected;
    const given =
      c.req.header('private-token') ?? c.req.header('authorization')?.replace(/^Bearer /i, '');
    if (given !== opts.token) return reply(x, 401, 'refused', { message: '401 Unauthorized' });
    const k = `${c.req.param('id')}/${c.req.param('dep')}`;
    const current = deployments.get(k);
    if (!current) return reply(x, 404, 'refused', { message: '404 Deployment Not Found' });
    const { status, comment } = (x.body ?? {}) as { status?: string; comment?: string };
    if (status !== 'approved' && status !== 'rejected') {
      return reply(x, 400, 'refused', { error: 'status does not have a valid value' });
    }
    if (current !== 'blocked') {
      return reply(x, 400, 'not-pending', {
        message: 'This deployment is not waiting for approvals.',
      });
    }
    deployments.set(k, status);
    return reply(x, 201, status === 'approved' ? 'released' : 'rejected', {
      user: { id: 1, username: 'changegate', name: 'changegate' },
      status,
      created_at: new Date().toISOString(),
      comment: comment ?? null,
    });
  });

  return {
    pending(projectId, deploymentId) {
      deployments.set(`${projectId}/${deploymentId}`, 'blocked');
      return `${opts.baseUrl()}/api/v4/projects/${projectId}/deployments/${deploymentId}/approval`;
    },
    state: (projectId, deploymentId) => deployments.get(`${projectId}/${deploymentId}`),
  };
}
