import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  azureDevopsReceiver,
  planEventsUrl,
} from '../../../../../src/providers/azure-devops/receiver/index.js';
import type { RawRequest } from '../../../../../src/receivers/types.js';
import {
  AUTH_TOKEN,
  CHECK_HEADERS,
  SECRETS,
  checkRequest,
} from '../../../../fixtures/azure-devops-request.js';
import {
  VERIFY,
  arbitraryHeaders,
  fixture,
  mutatedDocument,
  onlyEvent,
  onlyKnownErrors,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const ctx = testContext();

async function deliver(raw: RawRequest) {
  const { deliveryId } = azureDevopsReceiver.verify(raw, SECRETS, VERIFY);
  return azureDevopsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx);
}

const EVENTS_URL =
  'https://dev.azure.com/fabrikam/7c1a3f0e-2b4d-4e6f-8a9b-0c1d2e3f4a5b/_apis/distributedtask/hubs/checks/plans/4a0b2d6e-8c1f-4e3a-9b5d-7f6e0c2a1b38/events';

describe('azure-devops Invoke REST API check', () => {
  it('becomes deployment.requested with a sealed callback to the plan events endpoint', async () => {
    const n = await deliver(checkRequest(fixture('azure-devops/synthetic-check-body.json')));
    const event = onlyEvent(n);
    const k = 'azure-devops/Payments/payments-api/2719-production';
    expect(event.type).toBe('dev.changegate.deployment.requested');
    expect(event.partitionkey).toBe(k);
    expect(event.data).toMatchObject({
      provider: 'azure-devops',
      project: 'Payments/payments-api',
      event: 'invoke-rest-api-check',
      deliveryId: `check:${CHECK_HEADERS.PlanId}:${CHECK_HEADERS.TaskInstanceId}`,
      environment: 'production',
      deploymentId: '2719-production',
      correlationId: k,
      run: {
        id: '2719',
        name: '20261125.4',
        url: 'https://dev.azure.com/fabrikam/Payments/_build/results?buildId=2719',
      },
      commit: { sha: '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e', ref: 'refs/heads/main' },
      emergency: false,
      callback: {
        kind: 'azure-devops',
        url: EVENTS_URL,
        params: {
          planId: CHECK_HEADERS.PlanId,
          jobId: CHECK_HEADERS.JobId,
          taskInstanceId: CHECK_HEADERS.TaskInstanceId,
          timelineId: CHECK_HEADERS.TimelineId,
          hubName: 'checks',
          projectId: CHECK_HEADERS.ProjectId,
          // The fixture's token is a JWT without exp: 48 h from the check call.
          tokenExpiresAt: new Date(ctx.now.getTime() + 48 * 3600_000).toISOString(),
        },
      },
    });
    // `$(ChangeNumber)` was not expanded by Azure: absent, not a bogus CR number.
    expect(event.data).not.toHaveProperty('changeNumber');
    const sealed = (event.data as { callback: { sealed: string } }).callback.sealed;
    expect(await ctx.sealer.open(sealed)).toEqual({ authToken: AUTH_TOKEN });
    expect(n).toMatchObject({ reply: { status: 'accepted', correlationId: k } });
  });

  it('never lets the AuthToken into the event, even from the InvokeRESTAPI@0 default body', async () => {
    const body = {
      ...fixture<Record<string, string>>('azure-devops/synthetic-check-body-invokerestapi-v0.json'),
      AuthToken: AUTH_TOKEN,
      environment: 'staging',
      nested: { token: `Bearer ${AUTH_TOKEN}`, authtoken: AUTH_TOKEN },
    };
    const event = onlyEvent(await deliver(checkRequest(body)));
    const serialized = JSON.stringify(event);
    expect(serialized).not.toContain(AUTH_TOKEN);
    expect(serialized).not.toMatch(/"authtoken"/i);
    expect(event.data).toMatchObject({
      raw: { payload: { JobId: CHECK_HEADERS.JobId, nested: { token: 'Bearer [redacted]' } } },
    });
  });

  it('never lets the AuthToken reach the event or the CR description, from any field or form', async () => {
    const basic = Buffer.from(`:${AUTH_TOKEN}`).toString('base64');
    const body = {
      environment: 'production',
      description: `Deploy payments. Debug: token=${AUTH_TOKEN} (remove me)`,
      commitMessage: `Fix login\n\nChange: CHG0012345\nAuthorization: Basic ${basic}`,
      runName: encodeURIComponent(AUTH_TOKEN),
      labels: [`t:${AUTH_TOKEN}`, 'pci'],
      [AUTH_TOKEN]: 'a key made of the token',
      deep: [{ note: Buffer.from(AUTH_TOKEN).toString('base64') }],
    };
    const event = onlyEvent(await deliver(checkRequest(body)));
    const serialized = JSON.stringify(event);
    for (const form of [
      AUTH_TOKEN,
      basic,
      encodeURIComponent(AUTH_TOKEN),
      Buffer.from(AUTH_TOKEN).toString('base64'),
    ]) {
      expect(serialized).not.toContain(form);
    }
    // The fields are kept, with the token cut out: the CR description is built from these.
    expect(event.data).toMatchObject({
      description: 'Deploy payments. Debug: token=[redacted] (remove me)',
      commit: { message: 'Fix login\n\nChange: CHG0012345\nAuthorization: Basic [redacted]' },
      changeNumber: 'CHG0012345',
      labels: ['t:[redacted]', 'pci'],
    });
    // The token is still there for the callback, sealed.
    const sealed = (event.data as { callback: { sealed: string } }).callback.sealed;
    expect(await ctx.sealer.open(sealed)).toEqual({ authToken: AUTH_TOKEN });
  });

  it('states when the job token expires: its JWT exp, never later than 48 h', async () => {
    const jwt = (exp: number) =>
      `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.c2ln`;
    const soon = Math.floor(ctx.now.getTime() / 1000) + 3600;
    const late = Math.floor(ctx.now.getTime() / 1000) + 30 * 24 * 3600;
    const params = async (token: string) =>
      (
        onlyEvent(
          await deliver(checkRequest({ environment: 'prod' }, { headers: { AuthToken: token } })),
        ).data as { callback: { params: Record<string, string> } }
      ).callback.params;
    expect((await params(jwt(soon))).tokenExpiresAt).toBe(new Date(soon * 1000).toISOString());
    expect((await params(jwt(late))).tokenExpiresAt).toBe(
      new Date(ctx.now.getTime() + 48 * 3600_000).toISOString(),
    );
  });

  it('falls back to the ProjectId header, the BuildId header and the stage name', async () => {
    const raw = checkRequest({ stage: 'Deploy_prod' }, { headers: { BuildId: '2719' } });
    const event = onlyEvent(await deliver(raw));
    expect(event.data).toMatchObject({
      project: CHECK_HEADERS.ProjectId,
      environment: 'Deploy_prod',
      deploymentId: '2719-Deploy_prod',
      run: { id: '2719' },
    });
  });

  it('keys by PlanId when no run id is given, stable across re-evaluations', async () => {
    const a = onlyEvent(await deliver(checkRequest({ environment: 'prod' })));
    const b = onlyEvent(
      await deliver(
        checkRequest({ environment: 'prod' }, { headers: { TaskInstanceId: 'f'.repeat(36) } }),
      ),
    );
    expect(a.data).toMatchObject({ deploymentId: `${CHECK_HEADERS.PlanId}-prod` });
    expect(a.partitionkey).toBe(b.partitionkey);
    expect(a.data).not.toHaveProperty('run');
  });

  it('reads changeNumber, labels and emergency when they are set', async () => {
    const body = {
      environment: 'prod',
      changeNumber: 'CHG0012345',
      labels: 'hotfix, pci,$(Extra)',
      emergency: 'True',
      attempt: '2',
      runId: 7,
    };
    const event = onlyEvent(await deliver(checkRequest(body)));
    expect(event.data).toMatchObject({
      changeNumber: 'CHG0012345',
      labels: ['hotfix', 'pci'],
      emergency: true,
      run: { id: '7', attempt: 2 },
    });
  });

  it('refuses a check body that names neither environment nor stage', async () => {
    for (const body of ['null', '[1]', '{"environment":"$(Environment.Name)"}']) {
      await expect(deliver(checkRequest(body))).rejects.toMatchObject({
        reason: 'missing_field:environment',
      });
    }
  });

  it.each(['PlanUrl', 'ProjectId', 'HubName', 'JobId', 'AuthToken'])(
    'refuses a check without the %s header',
    async (name) => {
      await expect(
        deliver(checkRequest({ environment: 'prod' }, { omit: [name] })),
      ).rejects.toMatchObject({ reason: `missing_header:${name}` });
    },
  );

  it('refuses a PlanUrl that is not an http(s) URL', async () => {
    const raw = checkRequest({ environment: 'prod' }, { headers: { PlanUrl: 'file:///etc/' } });
    await expect(deliver(raw)).rejects.toMatchObject({ reason: 'invalid_header:PlanUrl' });
  });

  it('joins PlanUrl with or without its trailing slash, and with a collection path', () => {
    const ids = ['p', 'checks', 'plan'] as const;
    const expected =
      'https://dev.azure.com/fabrikam/p/_apis/distributedtask/hubs/checks/plans/plan/events';
    expect(planEventsUrl('https://dev.azure.com/fabrikam/', ...ids)).toBe(expected);
    expect(planEventsUrl('https://dev.azure.com/fabrikam', ...ids)).toBe(expected);
    expect(planEventsUrl('https://tfs.acme.example/tfs/DefaultCollection/', ...ids)).toBe(
      'https://tfs.acme.example/tfs/DefaultCollection/p/_apis/distributedtask/hubs/checks/plans/plan/events',
    );
    expect(planEventsUrl('https://dev.azure.com/fabrikam/', '../x', 'a/b', 'c?d')).toBe(
      'https://dev.azure.com/fabrikam/..%2Fx/_apis/distributedtask/hubs/a%2Fb/plans/c%3Fd/events',
    );
  });

  it('normalize of any mutated check body yields valid events or a PayloadError', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedDocument(fixture('azure-devops/synthetic-check-body.json')), (doc) =>
        onlyKnownErrors(() =>
          azureDevopsReceiver.normalize(
            verifiedRequest(checkRequest(JSON.stringify(doc ?? null)), 'check:a:b'),
            ctx,
          ),
        ),
      ),
      { numRuns: 200 },
    );
  });

  it('normalize with arbitrary check headers yields valid events or a PayloadError', async () => {
    const names = Object.keys(CHECK_HEADERS).map((n) => n.toLowerCase());
    await fc.assert(
      fc.asyncProperty(arbitraryHeaders([...names, 'buildid']), async (headers) => {
        headers.set('planid', CHECK_HEADERS.PlanId);
        const request = { headers, body: new Uint8Array(), params: {}, deliveryId: 'd' };
        const ok = await onlyKnownErrors(() =>
          azureDevopsReceiver.normalize({ ...request, json: { environment: 'e' } }, ctx),
        );
        return ok;
      }),
    );
  });
});
