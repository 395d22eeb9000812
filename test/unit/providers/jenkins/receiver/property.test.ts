import fc from 'fast-check';
import { describe, it } from 'vitest';
import { jenkinsReceiver } from '../../../../../src/providers/jenkins/receiver/index.js';
import {
  SECRET,
  VERIFY,
  fixture,
  mutatedDocument,
  assertVerifyFailsCleanly,
  onlyKnownErrors,
  signedRequest,
  testContext,
  verifiedRequest,
} from '../../../../fixtures/standard-webhook-request.js';

const secrets = { secrets: [SECRET] };
const ctx = testContext();
const FIXTURES = [
  'jenkins/synthetic-deployment-requested.json',
  'jenkins/synthetic-pipeline-failed.json',
  'jenkins/synthetic-test-reported.json',
  'jenkins/synthetic-ping.json',
];

describe('jenkins receiver, properties', () => {
  it('verify throws only VerificationError for arbitrary bytes and headers', () =>
    assertVerifyFailsCleanly(({ headers, body }) =>
      jenkinsReceiver.verify({ headers, body, params: {} }, secrets, VERIFY),
    ));

  it('normalize of any mutation of a valid body yields valid events or a PayloadError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FIXTURES).chain((f) => mutatedDocument(fixture(f))),
        (doc) =>
          onlyKnownErrors(() =>
            jenkinsReceiver.normalize(
              verifiedRequest(signedRequest(JSON.stringify(doc ?? null)), 'msg_1'),
              ctx,
            ),
          ),
      ),
      { numRuns: 300 },
    );
  });

  it('normalize of arbitrary JSON yields valid events or a PayloadError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), (json) =>
        onlyKnownErrors(() =>
          jenkinsReceiver.normalize(
            { headers: new Headers(), body: new Uint8Array(), params: {}, deliveryId: 'd', json },
            ctx,
          ),
        ),
      ),
    );
  });
});
