import { randomBytes } from 'node:crypto';
import * as azdev from 'azure-devops-node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureTokenExpiredError } from '../../../src/providers/azure-devops/callback.js';
import {
  CallbackRefusedError,
  createCallbackClients,
  type CallbackClients,
} from '../../../src/ci/index.js';
import type { CiLog } from '../../../src/ci/port.js';
import { CiSchema, type CiConfigInput } from '../../../src/config/ci.js';
import type { Callback } from '../../../src/events/common.js';
import { createSealer } from '../../../src/security/seal.js';
import { fixture } from '../../fixtures/standard-webhook-request.js';
import {
  startCiEmulator,
  type CiEmulator,
  type ReceivedCall,
} from '../../../src/sandbox/ci/index.js';

/**
 * The Azure DevOps callback client against the emulator, and Microsoft's own Node SDK
 * (azure-devops-node-api) against the same emulator as the other party: route discovery, version
 * negotiation and the Post Event call.
 */

const sealer = createSealer(randomBytes(32));
const HOUR = 3600_000;
const approve = { outcome: 'approve', comment: 'CHG0030001 approved' } as const;
const reject = { outcome: 'reject', comment: 'CHG0030002 rejected by CAB' } as const;
/** TaskResourceIds.PlanEvents of Microsoft's task client libraries. */
const PLAN_EVENTS = '557624af-b29e-4c20-8ab0-0399d2204f3f';

let services: CiEmulator;
let server2020: CiEmulator;
const logLines: string[] = [];
const log: CiLog = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
};

const clientsFor = (extra: CiConfigInput = {}): CallbackClients =>
  createCallbackClients(CiSchema.parse({ allowLoopback: true, timeoutMs: 5_000, ...extra }), {
    sealer,
    log,
  });

async function gate(ci: CiEmulator, issuedAt?: number) {
  const check = ci.azure.pending(issuedAt === undefined ? {} : { issuedAt });
  const callback: Callback = {
    kind: 'azure-devops',
    url: check.url,
    sealed: await sealer.seal({ authToken: check.authToken }),
    params: check.params,
  };
  return { callback, check, planId: check.params.planId };
}

const calls = (ci: CiEmulator, planId: string, effect?: ReceivedCall['effect']) =>
  ci.received().filter((c) => c.path.includes(planId) && (!effect || c.effect === effect));

beforeAll(async () => {
  services = await startCiEmulator();
  server2020 = await startCiEmulator({ azureMaxApiVersion: '6.0' });
});

afterAll(async () => {
  await services?.close();
  await server2020?.close();
});

describe('Azure DevOps check callback', () => {
  it('completes the check, counting the 204 of Post Event as done, and releases once', async () => {
    const { callback, check, planId } = await gate(services);
    await expect(clientsFor().decide(callback, approve)).resolves.toEqual({
      status: 'done',
      httpStatus: 204,
    });
    const [release, ...more] = calls(services, planId, 'released');
    expect(more).toHaveLength(0);
    expect(release?.status).toBe(204);
    expect(release?.headers.authorization).toBe(
      `Basic ${Buffer.from(`:${check.authToken}`).toString('base64')}`,
    );
    expect(release?.headers['x-tfs-fedauthredirect']).toBe('Suppress');
    // 127.0.0.1 is not dev.azure.com: the Server default, which Services accept too.
    expect(release?.path).toMatch(/\/events\?api-version=6\.0-preview\.1$/);
    expect(release?.body).toEqual({
      name: 'TaskCompleted',
      taskId: callback.params.taskInstanceId,
      jobId: callback.params.jobId,
      result: 'succeeded',
    });
    expect(services.azure.state(planId)).toBe('succeeded');
  });

  it('fails the task on reject', async () => {
    const { callback, planId } = await gate(services);
    await clientsFor().decide(callback, reject);
    expect(services.azure.state(planId)).toBe('failed');
  });

  it('treats a repeat as done, and the check still completed once', async () => {
    const { callback, planId } = await gate(services);
    await clientsFor().decide(callback, approve);
    await expect(clientsFor().decide(callback, approve)).resolves.toMatchObject({ status: 'done' });
    expect(calls(services, planId, 'released')).toHaveLength(1);
    expect(calls(services, planId, 'duplicate')).toHaveLength(1);
  });

  it('sends the configured api-version', async () => {
    const { callback, planId } = await gate(services);
    await clientsFor({ azureDevops: { apiVersion: '7.1' } }).decide(callback, approve);
    expect(calls(services, planId, 'released')[0]?.path).toMatch(/api-version=7\.1-preview\.1$/);
  });

  it('falls back to the version a Server names when the configured one is out of range', async () => {
    const clients = clientsFor({ azureDevops: { apiVersion: '7.1-preview.1' } });
    const first = await gate(server2020);
    await expect(clients.decide(first.callback, approve)).resolves.toMatchObject({
      status: 'done',
    });
    const attempts = calls(server2020, first.planId);
    expect(attempts.map((c) => [c.status, c.path.split('api-version=')[1]])).toEqual([
      [400, '7.1-preview.1'],
      [204, '6.0-preview.1'],
    ]);
    expect(logLines.join('\n')).toContain('set ci.azureDevops.apiVersion: \\"6.0-preview.1\\"');
    // Learnt for the host: the next check goes straight to 6.0.
    const second = await gate(server2020);
    await clients.decide(second.callback, approve);
    expect(calls(server2020, second.planId).map((c) => c.status)).toEqual([204]);
  });

  it('refuses to call with a token past 48 h: a final, named failure, nothing sent, check still waiting', async () => {
    const { callback, planId } = await gate(services, Date.now() - 49 * HOUR);
    const err = await clientsFor()
      .decide(callback, approve)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureTokenExpiredError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(
      /AuthToken expired at .*valid 48 h.*nothing was released/,
    );
    expect(calls(services, planId)).toHaveLength(0);
    expect(services.azure.state(planId)).toBe('waiting');
  });

  it('names the expiry from params.tokenExpiresAt when the token itself says nothing', async () => {
    const { callback, planId } = await gate(services);
    const stale = {
      ...callback,
      sealed: await sealer.seal({ authToken: 'opaque-not-a-jwt' }),
      params: { ...callback.params, tokenExpiresAt: new Date(Date.now() - HOUR).toISOString() },
    };
    await expect(clientsFor().decide(stale, approve)).rejects.toBeInstanceOf(
      AzureTokenExpiredError,
    );
    expect(calls(services, planId)).toHaveLength(0);
  });

  it('turns a refused token (401 TF400813) into a final error that names the cause', async () => {
    const { callback, planId } = await gate(services);
    const wrong = { ...callback, sealed: await sealer.seal({ authToken: 'revoked' }) };
    const err = await clientsFor()
      .decide(wrong, approve)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, upstreamStatus: 401 });
    expect((err as Error).message).toMatch(/AuthToken refused.*TF400813/);
    expect(services.azure.state(planId)).toBe('waiting');
  });

  it('answers a refused token with the 203 sign-in page unless the redirect is suppressed', async () => {
    const { check } = await gate(services);
    const post = (headers: Record<string, string>) =>
      fetch(`${check.url}?api-version=7.1-preview.1`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(':wrong').toString('base64')}`,
          'content-type': 'application/json',
          ...headers,
        },
        body: '{}',
      });
    const page = await post({});
    expect(page.status).toBe(203);
    expect(await page.text()).toContain('Sign in');
    const suppressed = await post({ 'x-tfs-fedauthredirect': 'Suppress' });
    expect(suppressed.status).toBe(401);
    expect(await suppressed.json()).toMatchObject({ typeKey: 'UnauthorizedRequestException' });
  });

  it('appends a status line to the timeline record feed', async () => {
    const { callback, planId } = await gate(services);
    await expect(clientsFor().comment(callback, 'Waiting for CHG0030009')).resolves.toBe(true);
    const [line] = calls(services, planId, 'comment');
    expect(line?.body).toEqual({ value: ['Waiting for CHG0030009'], count: 1 });
  });

  it('refuses a callback whose sealed token was sealed with another key', async () => {
    const { callback } = await gate(services);
    const foreign = await createSealer(randomBytes(32)).seal({ authToken: 'x' });
    await expect(
      clientsFor().decide({ ...callback, sealed: foreign }, approve),
    ).rejects.toBeInstanceOf(CallbackRefusedError);
  });

  it('never logs the AuthToken', async () => {
    const { callback, check } = await gate(server2020);
    const clients = clientsFor({ azureDevops: { apiVersion: '7.1' } });
    await clients.decide(callback, approve);
    await clients
      .decide({ ...callback, params: { ...callback.params, jobId: 'wrong' } }, approve)
      .catch(() => {});
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(check.authToken);
  });
});

describe("Microsoft's recorded Post Event example", () => {
  const recorded = fixture<{
    'x-ms-vss-request-method': string;
    parameters: { body: Record<string, string> };
    responses: Record<string, unknown>;
  }>('azure-devops/post-event.http-example.json');

  it('is what the client sends (method, body fields) and what the emulator answers (204)', async () => {
    const { callback, planId } = await gate(services);
    const answer = await clientsFor().decide(callback, approve);
    const [sent] = calls(services, planId, 'released');
    expect(sent?.method).toBe(recorded['x-ms-vss-request-method']);
    expect(Object.keys(sent?.body as object).sort()).toEqual(
      Object.keys(recorded.parameters.body).sort(),
    );
    expect((sent?.body as Record<string, string>).name).toBe(recorded.parameters.body.name);
    expect(Object.keys(recorded.responses)).toEqual([String(answer.httpStatus)]);
  });
});

describe('azure-devops-node-api as the other party', () => {
  /** The SDK's own route discovery and version negotiation for the PlanEvents location. */
  async function viaSdk(ci: CiEmulator, requested: string) {
    const { check, planId } = await gate(ci);
    const web = new azdev.WebApi(ci.url, azdev.getBasicHandler('', check.authToken));
    const task = await web.getTaskApi();
    const route = await task.vsoClient.getVersioningData(
      requested,
      'distributedtask',
      PLAN_EVENTS,
      {
        scopeIdentifier: check.params.projectId,
        hubName: check.params.hubName,
        planId,
      },
    );
    if (!route.requestUrl) throw new Error('the SDK found no PlanEvents route');
    const reply = await task.rest.create(
      route.requestUrl,
      {
        name: 'TaskCompleted',
        taskId: check.params.taskInstanceId,
        jobId: check.params.jobId,
        result: 'succeeded',
      },
      task.createRequestOptions('application/json', route.apiVersion),
    );
    return { route, reply, check, planId };
  }

  it('finds the events route the receivers build and completes the check with a 204', async () => {
    const { route, reply, check, planId } = await viaSdk(services, '7.1-preview.1');
    expect(route.apiVersion).toBe('7.1-preview.1');
    // The SDK resolves the same URL the receiver derives from the check headers.
    expect(route.requestUrl).toBe(check.url);
    expect(reply.statusCode).toBe(204);
    expect(services.azure.state(planId)).toBe('succeeded');
  });

  it('negotiates a Server 2020 down to 6.0-preview.1, the version the client defaults to there', async () => {
    const { route, reply, planId } = await viaSdk(server2020, '7.1-preview.1');
    expect(route.apiVersion).toBe('6.0-preview.1');
    expect(reply.statusCode).toBe(204);
    expect(server2020.azure.state(planId)).toBe('succeeded');
    const { callback, planId: ours } = await gate(server2020);
    await clientsFor().decide(callback, approve);
    expect(calls(server2020, ours, 'released')[0]?.path).toMatch(/api-version=6\.0-preview\.1$/);
  });
});
