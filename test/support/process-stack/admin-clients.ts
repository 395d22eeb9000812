import type {
  AzurePendingCheck,
  CiProvider,
  Effect,
  ReceivedCall,
} from '../../../src/sandbox/ci/index.js';
import {
  DEFAULT_USER,
  type OutboundRecord,
  type SnRecord,
} from '../../../src/sandbox/servicenow/index.js';

/**
 * HTTP clients for the two emulators' admin APIs, as a test in another process sees them: the
 * ServiceNow sandbox's `/sandbox/admin` and the CI emulator's `/_emulator`.
 *
 * @module
 */

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`[sandbox admin] ${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The ServiceNow sandbox, driven as an approver would (and inspected as a test must). */
export interface SandboxAdminClient {
  url: string;
  approve(number: string): Promise<SnRecord>;
  reject(number: string): Promise<SnRecord>;
  setState(number: string, state: string): Promise<SnRecord>;
  setField(number: string, field: string, value: string): Promise<SnRecord>;
  changes(): Promise<SnRecord[]>;
  outbound(): Promise<OutboundRecord[]>;
  /** Create a change the way a person or another tool would: Table API, basic auth. */
  createChange(fields: Record<string, string>): Promise<SnRecord>;
}

/** @example const sn = sandboxAdmin('http://127.0.0.1:8089'); await sn.approve('CHG0010001') */
export function sandboxAdmin(url: string): SandboxAdminClient {
  const admin = `${url}/sandbox/admin`;
  const result = <T>(p: Promise<{ result: T }>) => p.then((r) => r.result);
  const ref = encodeURIComponent;
  return {
    url,
    approve: (n) => result(call('POST', `${admin}/changes/${ref(n)}/approve`, {})),
    reject: (n) => result(call('POST', `${admin}/changes/${ref(n)}/reject`, {})),
    setState: (n, state) => result(call('POST', `${admin}/changes/${ref(n)}/state`, { state })),
    setField: (n, field, value) =>
      result(call('POST', `${admin}/records/${ref(n)}/field`, { field, value })),
    changes: () => result(call('GET', `${admin}/records/change_request`)),
    outbound: () => result(call('GET', `${admin}/outbound`)),
    async createChange(fields) {
      const auth = Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`);
      const res = await fetch(`${url}/api/now/table/change_request`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Basic ${auth.toString('base64')}`,
        },
        body: JSON.stringify(fields),
      });
      if (res.status !== 201)
        throw new Error(`[sandbox admin] Table API create answered ${res.status}`);
      return ((await res.json()) as { result: SnRecord }).result;
    },
  };
}

export interface ReceivedFilter {
  provider?: CiProvider;
  effect?: Effect;
  pathContains?: string;
}

/** The CI emulator: register pending gates, read what changegate called back. */
export interface CiAdminClient {
  url: string;
  githubPending(owner: string, repo: string, runId: string, environment: string): Promise<string>;
  /** A GitLab pipeline whose deploy job waits for approval; returns its Pipeline Hook payload. */
  gitlabPipeline(options: {
    projectId: number;
    projectPath: string;
    environment: string;
  }): Promise<{ jobId: number; deploymentId: number; hook: Record<string, unknown> }>;
  azurePending(): Promise<AzurePendingCheck>;
  jenkinsPending(job: string, build: number): Promise<string>;
  received(filter?: ReceivedFilter): Promise<ReceivedCall[]>;
}

/** @example const ci = ciAdmin(url); const cb = await ci.githubPending('acme', 'payments', '1', 'production') */
export function ciAdmin(url: string): CiAdminClient {
  const admin = `${url}/_emulator`;
  const pendingUrl = (path: string, body: unknown) =>
    call<{ url: string }>('POST', `${admin}${path}`, body).then((r) => r.url);
  return {
    url,
    githubPending: (owner, repo, runId, environment) =>
      pendingUrl('/github/pending', { owner, repo, runId, environment }),
    gitlabPipeline: (options) =>
      call('POST', `${admin}/gitlab/pipelines`, { ...options, deliver: false }),
    azurePending: () => call<AzurePendingCheck>('POST', `${admin}/azure/pending`, {}),
    jenkinsPending: (job, build) => pendingUrl('/jenkins/pending', { job, build }),
    received: (filter = {}) => {
      const query = new URLSearchParams(
        Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined),
      );
      return call<{ calls: ReceivedCall[] }>('GET', `${admin}/received?${query}`).then(
        (r) => r.calls,
      );
    },
  };
}
