import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { azureDevopsReceiver } from '../../../../../src/providers/azure-devops/receiver/index.js';
import { SECRETS, serviceHookRequest } from '../../../../fixtures/azure-devops-request.js';
import {
  VERIFY,
  fixture,
  mutatedDocument,
  onlyEvent,
  onlyKnownErrors,
  setAt,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const ctx = testContext();
const PROJECT_ID = '7c1a3f0e-2b4d-4e6f-8a9b-0c1d2e3f4a5b';

async function deliver(body: unknown) {
  const raw = serviceHookRequest(body);
  const { deliveryId } = azureDevopsReceiver.verify(raw, SECRETS, VERIFY);
  return onlyEvent(await azureDevopsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx));
}

/** Unedited docs samples (PROVENANCE.md) and the synthetic failure payloads. */
const FIXTURES = [
  'azure-devops/build-complete.json',
  'azure-devops/deployment-completed.json',
  'azure-devops/run-state-changed.json',
  'azure-devops/stage-state-changed.json',
  'azure-devops/approval-pending.json',
  'azure-devops/synthetic-build-complete-failed.json',
  'azure-devops/synthetic-stage-state-changed-failed.json',
];
const DOCS_PROJECT_ID = 'be9b3917-87e6-42a4-a549-2bc06a7a878f';

describe('azure-devops service hooks', () => {
  it('reads the outcome and commit of the docs build.complete sample', async () => {
    const event = await deliver(fixture('azure-devops/build-complete.json'));
    expect(event.type).toBe('dev.changegate.pipeline.succeeded');
    expect(event.partitionkey).toBe(`azure-devops/${DOCS_PROJECT_ID}/2`);
    expect(event.data).toMatchObject({
      // No project name in this payload: the project id from resourceContainers.
      project: DOCS_PROJECT_ID,
      event: 'build.complete',
      deliveryId: '4a5d99d6-1c75-4e53-91b9-ee80057d4ce3',
      pipeline: 'ConsumerAddressModule',
      run: { id: '2', name: 'ConsumerAddressModule_20150407.1' },
      commit: { ref: 'refs/heads/master', sha: '600c52d2d5b655caa111abfd863e5a9bd304bb0e' },
      actor: 'Normal Paulk',
    });
  });

  it('maps a failed build.complete to pipeline.failed (synthetic: no failed sample is published)', async () => {
    const event = await deliver(fixture('azure-devops/synthetic-build-complete-failed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.failed');
    expect(event.partitionkey).toBe('azure-devops/Payments/2718');
    expect(event.data).toMatchObject({
      provider: 'azure-devops',
      project: 'Payments',
      event: 'build.complete',
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
    const body = setAt(
      fixture('azure-devops/synthetic-build-complete-failed.json'),
      ['resource', 'result'],
      result,
    );
    const event = await deliver(body);
    expect(event.type).toBe(type);
    expect(event.data).toMatchObject({ status });
  });

  it('maps the docs ms.vss-release.deployment-completed-event to deployment.succeeded', async () => {
    const event = await deliver(fixture('azure-devops/deployment-completed.json'));
    expect(event.type).toBe('dev.changegate.deployment.succeeded');
    expect(event.data).toMatchObject({
      project: 'Fabrikam',
      environment: 'Dev',
      deploymentId: '1-Dev',
      correlationId: 'azure-devops/Fabrikam/1-Dev',
      run: { id: '1', name: 'Release-1' },
    });
  });

  it('maps the docs run-state-changed sample to pipeline.succeeded', async () => {
    const event = await deliver(fixture('azure-devops/run-state-changed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.succeeded');
    expect(event.partitionkey).toBe(`azure-devops/${DOCS_PROJECT_ID}/11`);
    expect(event.data).toMatchObject({
      pipeline: 'TEST-CI',
      run: {
        id: '11',
        url: 'https://codedev.ms/org/863d0a5b-3c91-4bf3-8ad7-7f33736b7f4c/_build/results?buildId=11',
      },
    });
  });

  it('maps the docs stage-state-changed sample to pipeline.succeeded on the run key', async () => {
    const event = await deliver(fixture('azure-devops/stage-state-changed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.succeeded');
    expect(event.partitionkey).toBe(`azure-devops/${DOCS_PROJECT_ID}/2`);
    // displayName is null in the sample: the stage name stands in.
    expect(event.data).toMatchObject({ pipeline: 'TEST-CI/__default', failures: [] });
  });

  it('maps a failed stage to pipeline.failed on the run key (synthetic)', async () => {
    const event = await deliver(fixture('azure-devops/synthetic-stage-state-changed-failed.json'));
    expect(event.type).toBe('dev.changegate.pipeline.failed');
    expect(event.partitionkey).toBe(`azure-devops/${PROJECT_ID}/2719`);
    expect(event.data).toMatchObject({
      pipeline: 'payments-deploy/Deploy production',
      failures: [{ name: 'Deploy production' }],
    });
  });

  // The docs publish only succeeded samples: the other outcomes are small synthetic envelopes.
  const synthetic = (eventType: string, resource: unknown) => ({
    id: `synthetic-${eventType}`,
    eventType,
    resource,
    resourceContainers: { project: { id: DOCS_PROJECT_ID } },
  });

  it.each(['rejected', 'canceled', 'failed'])(
    'maps a %s release deployment to deployment.failed',
    async (status) => {
      const body = synthetic('ms.vss-release.deployment-completed-event', {
        environment: { name: 'Dev', status, release: { id: 1, name: 'Release-1' } },
        project: { name: 'Fabrikam' },
      });
      expect((await deliver(body)).type).toBe('dev.changegate.deployment.failed');
    },
  );

  it('maps an in-progress run to webhook.received', async () => {
    const body = synthetic('ms.vss-pipelines.run-state-changed-event', {
      run: { id: 11, name: '11', state: 'inProgress' },
    });
    expect(await deliver(body)).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { action: 'run:inProgress' },
    });
  });

  it('maps a running stage to webhook.received', async () => {
    const body = synthetic('ms.vss-pipelines.stage-state-changed-event', {
      stage: { name: '__default', state: 'running' },
      run: { id: 2, name: '2', state: 'inProgress' },
    });
    expect(await deliver(body)).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { action: 'stage:__default:running' },
    });
  });

  it('publishes an event type it does not map (the docs approval-pending sample) as webhook.received', async () => {
    const event = await deliver(fixture('azure-devops/approval-pending.json'));
    expect(event.type).toBe('dev.changegate.webhook.received');
    expect(event.data).toMatchObject({
      project: DOCS_PROJECT_ID,
      action: 'ms.vss-pipelinechecks-events.approval-pending',
      event: 'ms.vss-pipelinechecks-events.approval-pending',
    });
  });

  it('refuses a build.complete without a build id', async () => {
    const body = setAt(
      fixture('azure-devops/synthetic-build-complete-failed.json'),
      ['resource', 'id'],
      undefined,
    );
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
