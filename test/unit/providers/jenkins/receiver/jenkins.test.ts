import { describe, expect, it } from 'vitest';
import { PayloadError, VerificationError } from '../../../../../src/errors.js';
import {
  jenkinsInputId,
  jenkinsReceiver,
} from '../../../../../src/providers/jenkins/receiver/index.js';
import type { SourcesConfig } from '../../../../../src/config/schema.js';
import {
  NEW_SECRET,
  SECRET,
  VERIFY,
  fixture,
  onlyEvent,
  setAt,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const secrets = { secrets: [SECRET] };
const ctx = testContext();

async function normalizeFixture(payload: unknown, id = 'msg_jenkins_1') {
  const raw = signedRequest(payload, { id });
  const { deliveryId } = jenkinsReceiver.verify(raw, secrets, VERIFY);
  return jenkinsReceiver.normalize(verifiedRequest(raw, deliveryId), ctx);
}

describe('jenkins receiver', () => {
  it('is configured by sources.jenkins and 404s without it', () => {
    expect(jenkinsReceiver.secrets({ generic: {} } as SourcesConfig, {})).toBeUndefined();
    const sources = { generic: {}, jenkins: secrets } as SourcesConfig;
    expect(jenkinsReceiver.secrets(sources, {})).toEqual(secrets);
  });

  it('uses webhook-id as the delivery id and accepts a rotated secret', () => {
    const raw = signedRequest({ type: 'ping' }, { id: 'msg_42', secret: NEW_SECRET });
    expect(jenkinsReceiver.verify(raw, { secrets: [SECRET, NEW_SECRET] }, VERIFY)).toEqual({
      deliveryId: 'msg_42',
    });
  });

  it('rejects a tampered delivery', () => {
    const raw = signedRequest(fixture('jenkins/synthetic-deployment-requested.json'), {
      tamper: true,
    });
    expect(() => jenkinsReceiver.verify(raw, secrets, VERIFY)).toThrow(VerificationError);
  });

  it('turns deployment.requested into a gated deployment with a Jenkins input callback', async () => {
    const event = onlyEvent(
      await normalizeFixture(fixture('jenkins/synthetic-deployment-requested.json')),
    );
    expect(event.type).toBe('dev.changegate.deployment.requested');
    expect(event.partitionkey).toBe('jenkins/acme/payments/payments-1.42.0-production');
    expect(event.subject).toBe(event.partitionkey);
    expect(event.data).toMatchObject({
      provider: 'jenkins',
      project: 'acme/payments',
      event: 'deployment.requested',
      deliveryId: 'msg_jenkins_1',
      environment: 'production',
      deploymentId: 'payments-1.42.0-production',
      correlationId: 'jenkins/acme/payments/payments-1.42.0-production',
      run: { id: 'jenkins-payments-main-142', attempt: 1 },
      // From the commit trailer `Change: CHG0010001`.
      changeNumber: 'CHG0010001',
      labels: ['payments', 'pci'],
      emergency: false,
      callback: {
        kind: 'jenkins',
        url: 'https://ci.acme.example/job/payments/job/main/142/',
        params: { inputId: 'ChangeGate' },
      },
    });
    expect(event.data).not.toHaveProperty('source');
    expect((event.data as { raw: { truncated: boolean } }).raw.truncated).toBe(false);
  });

  it("capitalises the input id like Jenkins' InputStep does", () => {
    expect(jenkinsInputId(undefined)).toBe('ChangeGate');
    expect(jenkinsInputId('changeGate')).toBe('ChangeGate');
    expect(jenkinsInputId('CAB')).toBe('CAB');
  });

  it('maps pipeline.failed with its failing stage', async () => {
    const event = onlyEvent(
      await normalizeFixture(fixture('jenkins/synthetic-pipeline-failed.json')),
    );
    expect(event.type).toBe('dev.changegate.pipeline.failed');
    expect(event.data).toMatchObject({
      pipeline: 'payments/main',
      status: 'failed',
      failures: [{ name: 'Deploy' }],
    });
  });

  it('maps an aborted run to status canceled', async () => {
    const body = setAt(
      fixture('jenkins/synthetic-pipeline-failed.json'),
      ['data', 'canceled'],
      true,
    );
    const event = onlyEvent(await normalizeFixture(body));
    expect(event.data).toMatchObject({ status: 'canceled' });
  });

  it('maps test.reported with its summary and reports', async () => {
    const event = onlyEvent(
      await normalizeFixture(fixture('jenkins/synthetic-test-reported.json')),
    );
    expect(event.type).toBe('dev.changegate.test.reported');
    expect(event.data).toMatchObject({
      correlationId: 'jenkins/acme/payments/payments-1.42.0-production',
      summary: { passed: 812, failed: 0, skipped: 4 },
    });
    expect((event.data as { reports: unknown[] }).reports).toHaveLength(2);
  });

  it('answers ping without an event', async () => {
    expect(await normalizeFixture(fixture('jenkins/synthetic-ping.json'))).toEqual({
      kind: 'ping',
    });
  });

  it('keeps only a marker of a raw payload above the cap', async () => {
    const raw = signedRequest(fixture('jenkins/synthetic-deployment-requested.json'));
    const n = await jenkinsReceiver.normalize(
      verifiedRequest(raw, 'msg_1'),
      testContext({ rawMaxBytes: 10 }),
    );
    expect(onlyEvent(n).data).toMatchObject({ raw: { truncated: true, payload: null } });
  });

  it.each([
    [['type'], 'deployment.approved', 'invalid_field:type'],
    [['data', 'environment'], undefined, 'missing_field:data.environment'],
    [['data', 'callback', 'url'], 'not a url', 'invalid_field:data.callback.url'],
    [['data', 'changeNumber'], 'CHG12', 'invalid_field:data.changeNumber'],
    [['timestamp'], 'yesterday', 'invalid_field:timestamp'],
  ])('refuses %j = %j with reason %s', async (path, value, reason) => {
    const body = setAt(fixture('jenkins/synthetic-deployment-requested.json'), path, value);
    await expect(normalizeFixture(body)).rejects.toMatchObject({ name: 'PayloadError', reason });
  });

  it('refuses a generic-kind callback', async () => {
    const body = setAt(
      fixture('jenkins/synthetic-deployment-requested.json'),
      ['data', 'callback', 'kind'],
      'generic',
    );
    await expect(normalizeFixture(body)).rejects.toBeInstanceOf(PayloadError);
  });

  it('refuses a body that is not an object', async () => {
    await expect(normalizeFixture([1, 2])).rejects.toMatchObject({
      reason: 'invalid_field:(root)',
    });
  });
});
