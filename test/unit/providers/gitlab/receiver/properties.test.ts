import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadError, VerificationError } from '../../../../../src/errors.js';
import { buildEvent } from '../../../../../src/events/index.js';
import { normalizeGitlab } from '../../../../../src/providers/gitlab/receiver/normalize.js';
import {
  verifyGitlab,
  type GitlabSecrets,
} from '../../../../../src/providers/gitlab/receiver/verify.js';
import { gitlabRequest } from '../../../../fixtures/gitlab-request.js';

const TOKEN = 'gitlab-token';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = new Date('2026-03-04T09:00:00Z');
const options = { now: NOW, toleranceSeconds: 300 };
const ctx = { now: NOW, rawMaxBytes: 4096, seal: () => Promise.resolve('sealed') };
const EVENTS = [
  'Deployment Hook',
  'Pipeline Hook',
  'Job Hook',
  'Push Hook',
  'Note Hook',
  'Member Hook',
  'Vulnerability Hook',
];
const headerName = fc.constantFrom(
  'x-gitlab-token',
  'x-gitlab-event',
  'x-gitlab-instance',
  'idempotency-key',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
);
const headerValue = fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n\0]/g, ''));
const secrets = fc.constantFrom<GitlabSecrets>(
  { tokens: [TOKEN] },
  { signingTokens: [WHSEC] },
  { tokens: [TOKEN], signingTokens: [WHSEC] },
);

async function normalizeValid(event: string, value: unknown, instance?: string) {
  const request = gitlabRequest(event, value, { signingToken: WHSEC, at: NOW, instance });
  const { deliveryId } = verifyGitlab(
    request.headers,
    request.body,
    { signingTokens: [WHSEC] },
    options,
  );
  const json: unknown = JSON.parse(new TextDecoder().decode(request.body));
  const isObject = json !== null && typeof json === 'object' && !Array.isArray(json);
  const result = await normalizeGitlab({ ...request, deliveryId, json }, ctx).catch(
    (err: unknown) => {
      // Only a body that is not a JSON object is refused; any verified object is published.
      expect(err).toBeInstanceOf(PayloadError);
      expect((err as PayloadError).reason).toBe('not_an_object');
      expect(isObject).toBe(false);
      return undefined;
    },
  );
  if (isObject) expect(result).toMatchObject({ kind: 'events' });
  // Whatever normalize returns must validate: buildEvent may not throw.
  if (result?.kind === 'events') {
    for (const e of result.events) buildEvent(e, { id: deliveryId, source: 'x', time: NOW });
  }
}

describe('GitLab receiver properties', () => {
  it('never throws anything but VerificationError for arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(headerName, headerValue),
        secrets,
        (body, h, s) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(h)) headers.set(k, v);
          try {
            verifyGitlab(headers, body, s, options);
          } catch (err) {
            expect(err).toBeInstanceOf(VerificationError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a valid signature over arbitrary JSON never throws a non-Changegate error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), fc.jsonValue({ maxDepth: 4 }), (e, v) =>
        normalizeValid(e, v),
      ),
      { numRuns: 300 },
    );
  });

  it('normalizes arbitrary shapes around the required fields without crashing', async () => {
    const payload = fc.record(
      {
        object_kind: fc.oneof(fc.string(), fc.anything()),
        status: fc.oneof(fc.constantFrom('blocked', 'running', 'success', 'failed'), fc.anything()),
        deployment_id: fc.oneof(fc.integer(), fc.string(), fc.anything()),
        deployable_id: fc.anything(),
        deployable_url: fc.oneof(fc.webUrl(), fc.anything()),
        environment: fc.oneof(fc.string(), fc.anything()),
        project: fc.oneof(
          fc.record({
            id: fc.oneof(fc.integer(), fc.string()),
            path_with_namespace: fc.string(),
            web_url: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string()),
          }),
          fc.anything(),
        ),
        object_attributes: fc.oneof(
          fc.record({
            id: fc.integer(),
            status: fc.constantFrom('success', 'failed', 'canceled', 'running'),
            variables: fc.anything(),
          }),
          fc.anything(),
        ),
        builds: fc.oneof(
          fc.array(
            fc.record(
              {
                id: fc.oneof(fc.integer(), fc.string(), fc.anything()),
                name: fc.oneof(fc.string(), fc.anything()),
                status: fc.oneof(fc.constantFrom('manual', 'success', 'created'), fc.anything()),
                environment: fc.oneof(
                  fc.record({ name: fc.string(), action: fc.constantFrom('start', 'stop') }),
                  fc.anything(),
                ),
              },
              { requiredKeys: [] },
            ),
          ),
          fc.anything(),
        ),
        commit_url: fc.anything(),
        pipeline_id: fc.anything(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...EVENTS),
        payload,
        fc.oneof(fc.domain(), fc.webUrl(), fc.string()),
        normalizeValid,
      ),
      { numRuns: 500 },
    );
  });
});
