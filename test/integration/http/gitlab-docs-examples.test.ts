import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import {
  GITLAB_DOC_EXAMPLES,
  gitlabDocPayload,
  gitlabDocText,
  stripDocAnnotations,
} from '../../fixtures/gitlab-docs.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import { startTestReceiver, type TestReceiver } from '../../support/receiver.js';

/**
 * GitLab disables a webhook after 4 consecutive failing answers, and for good after 40 (GitLab
 * docs, "Auto-disabled webhooks"). So every verified delivery GitLab may send is answered 2xx:
 * each payload example of `webhook_events.md`, posted as GitLab posts it, with a valid token.
 */

const TOKEN = 'gl-docs-token';
const SIGNING = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
let receiver: TestReceiver;
let cicd: ConsumedRecord[] = [];

beforeAll(async () => {
  receiver = await startTestReceiver({
    sources: { gitlab: { tokens: [TOKEN], signingTokens: [SIGNING] } },
  });
  cicd = await receiver.records([receiver.config.kafka.topics.cicd]);
});
afterAll(() => receiver?.close());

async function post(request: { headers: Headers; body: Uint8Array }): Promise<number> {
  const res = await fetch(`${receiver.url}/hooks/gitlab`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function published(id: string) {
  for (let i = 0; i < 100; i++) {
    const found = cicd.filter((r) => r.headers.ce_id?.toString().startsWith(id));
    if (found.length > 0) return found.map((r) => fromRecord(r));
    await new Promise((r) => setTimeout(r, 10));
  }
  return [];
}

describe('every payload example of GitLab webhook_events.md', () => {
  // `job` and `release` carry `//` annotations on the page; GitLab sends the JSON without them.
  const body = (name: (typeof GITLAB_DOC_EXAMPLES)[number]['name']) =>
    stripDocAnnotations(gitlabDocText(name));

  it.each(GITLAB_DOC_EXAMPLES)(
    'accepts $name ($event) with X-Gitlab-Token: 202 and published',
    async ({ name, event }) => {
      const id = `docs-token-${name}`;
      const status = await post(
        gitlabRequest(event, undefined, { token: TOKEN, idempotencyKey: id, body: body(name) }),
      );
      expect(status).toBe(202);
      const events = await published(id);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(e.type).toMatch(/^dev\.changegate\./);
        expect((e.data as { event: string }).event).toBe(event);
      }
    },
  );

  it.each(GITLAB_DOC_EXAMPLES)(
    'accepts $name ($event) signed with a signing token: 202',
    async ({ name, event }) => {
      const status = await post(
        gitlabRequest(event, undefined, {
          signingToken: SIGNING,
          idempotencyKey: `docs-signed-${name}`,
          body: body(name),
        }),
      );
      expect(status).toBe(202);
    },
  );

  it('accepts a known event in a shape it cannot read, with the reason', async () => {
    const pipeline = gitlabDocPayload('pipeline');
    const status = await post(
      gitlabRequest('Pipeline Hook', undefined, {
        token: TOKEN,
        idempotencyKey: 'docs-odd-shape',
        // The docs example with its builds replaced: a synthetic shape no GitLab release sends.
        body: JSON.stringify({ ...pipeline, builds: 'not a list' }),
      }),
    );
    expect(status).toBe(202);
    const [e] = await published('docs-odd-shape');
    expect(e).toMatchObject({
      type: 'dev.changegate.webhook.received',
      data: { reason: 'invalid_field:builds', project: 'gitlab-org/gitlab-test' },
    });
  });

  it('still refuses a wrong token: only authentication fails', async () => {
    const status = await post(
      gitlabRequest('Push Hook', undefined, { token: 'wrong', body: body('push') }),
    );
    expect(status).toBe(401);
  });
});
