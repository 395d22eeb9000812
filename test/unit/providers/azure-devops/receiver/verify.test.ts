import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourcesConfig } from '../../../../../src/config/schema.js';
import { PayloadError, VerificationError } from '../../../../../src/errors.js';
import { azureDevopsReceiver } from '../../../../../src/providers/azure-devops/receiver/index.js';
import {
  CHECK_HEADERS,
  SECRETS,
  SECRETS_WITH_HEADER,
  SHARED_HEADER,
  basic,
  checkRequest,
  serviceHookRequest,
} from '../../../../fixtures/azure-devops-request.js';
import {
  VERIFY,
  arbitraryHeaders,
  fixture,
  onlyKnownErrors,
} from '../../../../fixtures/standard-webhook-request.js';

const PREFIX = '[changegate/receivers/azure-devops]';
const { verify } = azureDevopsReceiver;
const hook = fixture('azure-devops/build-complete.json');

describe('azure-devops verify', () => {
  it('is configured by sources.azureDevops', () => {
    expect(azureDevopsReceiver.secrets({ generic: {} } as SourcesConfig, {})).toBeUndefined();
    const sources = { generic: {}, azureDevops: SECRETS } as SourcesConfig;
    expect(azureDevopsReceiver.secrets(sources, {})).toBe(SECRETS);
  });

  it('uses the notification id as the delivery id of a service hook', () => {
    expect(verify(serviceHookRequest(hook), SECRETS, VERIFY)).toEqual({
      deliveryId: '4a5d99d6-1c75-4e53-91b9-ee80057d4ce3',
    });
  });

  it('uses check:<PlanId>:<TaskInstanceId> as the delivery id of a check', () => {
    expect(verify(checkRequest({ environment: 'production' }), SECRETS, VERIFY)).toEqual({
      deliveryId: `check:${CHECK_HEADERS.PlanId}:${CHECK_HEADERS.TaskInstanceId}`,
    });
  });

  it('accepts every configured Basic pair (rotation)', () => {
    const old = serviceHookRequest(hook, { authorization: basic('old-user', 'old-password') });
    expect(verify(old, SECRETS, VERIFY).deliveryId).toBeTruthy();
  });

  it.each([
    [null, 'basic auth missing'],
    ['Bearer abc', 'basic auth malformed'],
    ['Basic !!!', 'basic auth malformed'],
    [basic('changegate', 'wrong'), 'basic auth mismatch'],
    [basic('someone', 'Hook-Pa55word!'), 'basic auth mismatch'],
  ])('refuses Authorization %j: %s', (authorization, message) => {
    const request = serviceHookRequest(hook, { authorization });
    expect(() => verify(request, SECRETS, VERIFY)).toThrow(`${PREFIX} ${message}`);
  });

  it('accepts a lower-case basic scheme', () => {
    const request = serviceHookRequest(hook, { authorization: basic().replace('Basic', 'basic') });
    expect(verify(request, SECRETS, VERIFY).deliveryId).toBeTruthy();
  });

  it('requires the shared header when one is configured', () => {
    const without = serviceHookRequest(hook);
    expect(() => verify(without, SECRETS_WITH_HEADER, VERIFY)).toThrow(
      `${PREFIX} shared header mismatch`,
    );
    const wrong = serviceHookRequest(hook, { headers: { [SHARED_HEADER.name]: 'nope' } });
    expect(() => verify(wrong, SECRETS_WITH_HEADER, VERIFY)).toThrow(VerificationError);
    const right = serviceHookRequest(hook, {
      headers: { [SHARED_HEADER.name]: SHARED_HEADER.value },
    });
    expect(verify(right, SECRETS_WITH_HEADER, VERIFY).deliveryId).toBeTruthy();
  });

  it('checks credentials before it reads the body', () => {
    const request = serviceHookRequest('not json', { authorization: basic('x', 'y') });
    expect(() => verify(request, SECRETS, VERIFY)).toThrow(VerificationError);
  });

  it('refuses an authenticated service hook without a usable id', () => {
    expect(() => verify(serviceHookRequest('not json'), SECRETS, VERIFY)).toThrow(
      expect.objectContaining({ reason: 'invalid_json' }) as Error,
    );
    expect(() => verify(serviceHookRequest({ eventType: 'x' }), SECRETS, VERIFY)).toThrow(
      expect.objectContaining({ reason: 'missing_field:id' }) as Error,
    );
  });

  it('refuses a check without a valid PlanId or TaskInstanceId', () => {
    const noTask = checkRequest({}, { omit: ['TaskInstanceId'] });
    expect(() => verify(noTask, SECRETS, VERIFY)).toThrow(PayloadError);
    const badPlan = checkRequest({}, { headers: { PlanId: '../../x' } });
    expect(() => verify(badPlan, SECRETS, VERIFY)).toThrow(
      expect.objectContaining({ reason: 'missing_header:PlanId' }) as Error,
    );
  });

  it('throws only VerificationError or PayloadError for arbitrary bytes and headers', async () => {
    const known = ['authorization', 'planid', 'taskinstanceid', 'authtoken', 'x-changegate-key'];
    const auth = fc.oneof(
      fc.constant(basic()),
      fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 256 }),
        arbitraryHeaders(known),
        fc.option(auth),
        (body, headers, authorization) => {
          if (authorization !== null) headers.set('authorization', authorization);
          return onlyKnownErrors(() =>
            verify({ headers, body, params: {} }, SECRETS_WITH_HEADER, VERIFY),
          );
        },
      ),
    );
  });
});
