import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { azureDevopsReceiver } from '../../../../src/receivers/azure-devops/index.js';
import { SECRETS, serviceHookRequest } from '../../../fixtures/azure-devops-request.js';
import {
  VERIFY,
  fixture,
  mutatedDocument,
  onlyEvent,
  onlyKnownErrors,
  setAt,
  testContext,
  verifiedRequest,
} from '../../../fixtures/standard-webhook-request.js';

const ctx = testContext();
const PROJECT_ID = '7c1a3f0e-2b4d-4e6f-8a9b-0c1d2e3f4a5b';

async function deliver(body: unknown) {
  const raw = serviceHookRequest(body);
  const { deliveryId } = azureDevopsReceiver.verify(raw, SECRETS, VERIFY);
  return onlyEvent(await azureDevopsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx));
}

const FIXTURES = [
  'azure-devops/build-complete.json',
  'azure-devops/build-complete-legacy.json',
  'azure-devops/deployment-completed.json',
  'azure-devops/run-state-changed.json',
  'azure-devops/stage-state-changed.json',
  'azure-devops/git-push.json',
];

describe('azure-devops service hooks', () => {
  it('maps a failed build.complete to pipeline.failed', async () => {
    const event = await deliver(fixture('azure-devops/build-complete.json'));
    expect(event.type).toBe('dev.changegate.pipeline.failed');
    expect(event.partitionkey).toBe('azure-devops/Payments/2718');
    expect(event.data).toMatchObject({
      provider: 'azure-devops',
      project: 'Payments',
      event: 'build.complete',
      deliveryId: '9b2d7e4a-5c1f-4a8e-b3d6-0f9e8c7b6a51',
      pipeline: 'payments-ci',
      status: 'failed',
      run: {
        id: '2718',
        name: '20261125.3',
        url: `https://dev.azure.com/fabrikam/${PROJECT_ID}/_build/results?buildId=2718`,
      },
      commit: { sha: '5f2c9a1e7b3d4c6a8e0f1b2c3d4e5f6a7b8c9d0e', ref: 'refs/heads/main' },
      actor: 'Normal Paulk',
    });
  });

  it.each([
    ['succeeded', 'dev.changegate.pipeline.succeeded', 'succeeded'],
    ['partiallySucceeded', 'dev.changegate.pipeline.succeeded', 'succeeded'],
    ['canceled', 'dev.changegate.pipeline.failed', 'canceled'],
  ])('maps build result %s to %s (%s)', async (result, type, status) => {
    const body = setAt(fixture('azure-devops/build-complete.json'), ['resource', 'result'], result);
    const event = await deliver(body);
    expect(event.type).toBe(type);
    expect(event.data).toMatchObject({ status });
  });

  it('reads the outcome and commit of the legacy build.complete sample', async () => {
    const event = await deliver(fixture('azure-devops/build-complete-legacy.json'));
    expect(event.type).toBe('dev.changegate.pipeline.succeeded');
    expect(event.data).toMatchObject({
      // No project name in this payload: the project id from resourceContainers.
      project: 'be9b3917-87e6-42a4-a549-2bc06a7a878f',
      commit: { ref: 'refs/heads/master', sha: '600c52d2d5b655caa111abfd863e5a9bd304bb0e' },
      actor: 'Normal Paulk',
    });
  });

  it('maps ms.vss-release.deployment-completed-event to deployment.succeeded', async () => {
    const event = await deliver(fixture('azure-devops/deployment-completed.json'));
    expect(event.type).toBe('dev.changegate.deployment.succeeded');
    expect(event.data).toMatchObject({
      project: 'Payments',
      environment: 'Production',
      deploymentId: '27-Production',
      correlationId: 'azure-devops/Payments/27-Production',
      run: { id: '27', name: 'Release-27' },
    });
  });

  it.each(['rejected', 'canceled', 'failed'])(
    'maps a %s release deployment to deployment.failed',
    async (status) => {
      const body = setAt(
        fixture('azure-devops/deployment-completed.json'),
        ['resource', 'environment', 'status'],
        status,
      );
      expect((await deliver(body)).type).toBe('dev.changegate.deployment.failed');
    },
  );

  it('maps a completed run-state-changed to pipeline.succeeded', async () => {
    const event = await deliver(fixture('azure-devops/run-state-changed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.succeeded');
    expect(event.partitionkey).toBe(`azure-devops/${PROJECT_ID}/2719`);
    expect(event.data).toMatchObject({ pipeline: 'payments-deploy', run: { id: '2719' } });
  });

  it('maps an in-progress run to webhook.received', async () => {
    const body = setAt(
      fixture('azure-devops/run-state-changed.json'),
      ['resource', 'run', 'state'],
      'inProgress',
    );
    const event = await deliver(body);
    expect(event.type).toBe('dev.changegate.webhook.received');
    expect(event.data).toMatchObject({ action: 'run:inProgress' });
  });

  it('maps a failed stage to pipeline.failed on the run key', async () => {
    const event = await deliver(fixture('azure-devops/stage-state-changed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.failed');
    expect(event.partitionkey).toBe(`azure-devops/${PROJECT_ID}/2719`);
    expect(event.data).toMatchObject({
      pipeline: 'payments-deploy/Deploy production',
      failures: [{ name: 'Deploy production' }],
    });
  });

  it('maps a running stage to webhook.received', async () => {
    const body = setAt(
      fixture('azure-devops/stage-state-changed.json'),
      ['resource', 'stage', 'state'],
      'running',
    );
    expect(await deliver(body)).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { action: 'stage:Deploy_Production:running' },
    });
  });

  it('publishes any other event type as webhook.received', async () => {
    const event = await deliver(fixture('azure-devops/git-push.json'));
    expect(event.type).toBe('dev.changegate.webhook.received');
    expect(event.data).toMatchObject({
      project: PROJECT_ID,
      action: 'git.push',
      event: 'git.push',
    });
  });

  it('refuses a build.complete without a build id', async () => {
    const body = setAt(fixture('azure-devops/build-complete.json'), ['resource', 'id'], undefined);
    await expect(deliver(body)).rejects.toMatchObject({ reason: 'missing_field:id' });
  });

  it('normalize of any mutation of a real payload yields valid events or a PayloadError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES).chain((f) => mutatedDocument(fixture(f))),
        (doc) =>
          onlyKnownErrors(() =>
            azureDevopsReceiver.normalize(
              verifiedRequest(serviceHookRequest(JSON.stringify(doc ?? null)), 'd'),
              ctx,
            ),
          ),
      ),
      { numRuns: 500 },
    );
  });
});
