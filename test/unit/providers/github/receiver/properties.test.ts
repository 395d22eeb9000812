import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadError, VerificationError } from '../../../../../src/errors.js';
import { buildEvent } from '../../../../../src/events/index.js';
import { normalizeGithub } from '../../../../../src/providers/github/receiver/normalize.js';
import { verifyGithub } from '../../../../../src/providers/github/receiver/verify.js';
import { githubRequest } from '../../../../fixtures/github-request.js';

const SECRET = 'github-secret';
const ctx = { now: new Date(), rawMaxBytes: 4096, seal: () => Promise.resolve('sealed') };
const EVENTS = [
  'deployment_protection_rule',
  'deployment_status',
  'workflow_run',
  'workflow_job',
  'check_suite',
  'push',
  'ping',
  'issues',
];
const headerName = fc.constantFrom(
  'x-hub-signature-256',
  'x-github-delivery',
  'x-github-event',
  'x-hub-signature',
  'content-type',
);
const headerValue = fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n\0]/g, ''));

describe('GitHub receiver properties', () => {
  it('never throws anything but VerificationError for arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(headerName, headerValue),
        (body, h) => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(h)) headers.set(k, v);
          try {
            verifyGithub(headers, body, [SECRET]);
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
      fc.asyncProperty(
        fc.constantFrom(...EVENTS),
        fc.jsonValue({ maxDepth: 4 }),
        async (event, value) => {
          const request = githubRequest(event, value, { secret: SECRET, deliveryId: 'd' });
          const { deliveryId } = verifyGithub(request.headers, request.body, [SECRET]);
          const json: unknown = JSON.parse(new TextDecoder().decode(request.body));
          const result = await normalizeGithub({ ...request, deliveryId, json }, ctx).catch(
            (err: unknown) => {
              expect(err).toBeInstanceOf(PayloadError);
              return undefined;
            },
          );
          // Whatever normalize returns must validate: buildEvent may not throw.
          if (result?.kind === 'events') {
            for (const e of result.events)
              buildEvent(e, { id: deliveryId, source: 'x', time: ctx.now });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('normalizes arbitrary shapes around the required fields without crashing', async () => {
    const payload = fc.record(
      {
        action: fc.oneof(fc.constant('requested'), fc.constant('completed'), fc.anything()),
        environment: fc.oneof(fc.string(), fc.anything()),
        deployment_callback_url: fc.oneof(fc.webUrl(), fc.string()),
        repository: fc.oneof(
          fc.record({ full_name: fc.string(), html_url: fc.oneof(fc.webUrl(), fc.anything()) }),
          fc.anything(),
        ),
        installation: fc.oneof(
          fc.record({ id: fc.oneof(fc.integer(), fc.string()) }),
          fc.anything(),
        ),
        deployment: fc.anything(),
        deployment_status: fc.oneof(
          fc.record({ state: fc.string(), environment: fc.string() }),
          fc.anything(),
        ),
        workflow_run: fc.oneof(
          fc.record({ id: fc.integer(), conclusion: fc.string(), run_attempt: fc.integer() }),
          fc.anything(),
        ),
        pull_requests: fc.anything(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...EVENTS), payload, async (event, value) => {
        const request = githubRequest(event, value, { secret: SECRET, deliveryId: 'd' });
        const json: unknown = JSON.parse(new TextDecoder().decode(request.body));
        const result = await normalizeGithub({ ...request, deliveryId: 'd', json }, ctx).catch(
          (err: unknown) => {
            expect(err).toBeInstanceOf(PayloadError);
            return undefined;
          },
        );
        if (result?.kind === 'events') {
          for (const e of result.events) buildEvent(e, { id: 'd', source: 'x', time: ctx.now });
        }
      }),
      { numRuns: 500 },
    );
  });
});
