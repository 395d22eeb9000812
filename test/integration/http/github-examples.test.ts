import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { signGithub } from '../../../src/providers/github/receiver/sign.js';
import { startTestReceiver, type TestReceiver } from '../../support/receiver.js';

/**
 * Every example payload of `@octokit/webhooks-examples` (the community's recordings of real
 * deliveries, unedited), signed the way GitHub signs, must be accepted and published exactly once:
 * a GitHub App receives all of these, and a refused delivery is lost (GitHub does not redeliver).
 */

interface ExampleSet {
  name: string;
  examples: Record<string, unknown>[];
}

const require = createRequire(import.meta.url);
const PACKAGE = '@octokit/webhooks-examples';
const examples = require(`${PACKAGE}/api.github.com/index.json`) as ExampleSet[];
const version = (require(`${PACKAGE}/package.json`) as { version: string }).version;
const SECRET = 'examples-secret-of-32-characters';

const deliveries = examples.flatMap((set) =>
  set.examples.map((payload, i) => ({ event: set.name, index: i, payload })),
);

let receiver: TestReceiver;
let published: ConsumedRecord[] = [];

beforeAll(async () => {
  receiver = await startTestReceiver({ sources: { github: { secrets: [SECRET] } } });
  const { deliveries: markers, ...eventTopics } = receiver.config.kafka.topics;
  void markers;
  published = await receiver.records([...new Set(Object.values(eventTopics))]);
});
afterAll(() => receiver?.close());

/** The exact bytes GitHub signs and sends, with the headers every delivery carries. */
function deliver(event: string, payload: unknown, deliveryId: string) {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  return fetch(`${receiver.url}/hooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/8a2d3f1',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '498123456',
      'x-hub-signature-256': signGithub(SECRET, body),
    },
    body,
  });
}

const eventsOf = (deliveryId: string) =>
  published.filter(
    (r) => r.headers.ce_id === deliveryId || r.headers.ce_id?.startsWith(`${deliveryId}#`),
  );

describe(`${PACKAGE}@${version}: every example delivery`, () => {
  it('the package holds the 329 examples this test was written against', () => {
    expect(deliveries).toHaveLength(329);
    expect(new Set(deliveries.map((d) => d.event)).size).toBe(examples.length);
  });

  it('accepts every signed example and publishes exactly one event per accepted delivery', async () => {
    const answers: { event: string; index: number; id: string; status: number; text: string }[] =
      [];
    for (const { event, index, payload } of deliveries) {
      const id = randomUUID();
      const res = await deliver(event, payload, id);
      answers.push({ event, index, id, status: res.status, text: await res.text() });
    }
    const refused = answers.filter((a) => a.status !== 202 && a.status !== 200);
    expect(refused.map((a) => `${a.event}[${a.index}] ${a.status} ${a.text}`)).toEqual([]);
    // 200 for a ping (nothing to publish), and for an example whose bytes repeat an earlier one
    // of the package (a few are identical): the signed bytes are a dedupe key (a replay under a
    // new delivery id), so the repeat is a duplicate, published once. Everything else is a 202.
    const seen = new Set<string>();
    const expected200 = deliveries.flatMap((d) => {
      const bytes = JSON.stringify(d.payload);
      const repeat = seen.has(bytes);
      seen.add(bytes);
      return d.event === 'ping' || repeat ? [`${d.event}[${d.index}]`] : [];
    });
    expect(expected200.length).toBeLessThan(20);
    expect(answers.filter((a) => a.status === 200).map((a) => `${a.event}[${a.index}]`)).toEqual(
      expected200,
    );

    const accepted = answers.filter((a) => a.status === 202);
    await vi.waitFor(() => expect(published.length).toBeGreaterThanOrEqual(accepted.length), {
      timeout: 10_000,
    });
    const counts = accepted.map((a) => `${a.event}[${a.index}] ${eventsOf(a.id).length}`);
    expect(counts).toEqual(accepted.map((a) => `${a.event}[${a.index}] 1`));
    expect(published).toHaveLength(accepted.length);
    // Each event names the GitHub event it came from.
    for (const a of accepted) {
      expect((fromRecord(eventsOf(a.id)[0]!).data as { event: string }).event).toBe(a.event);
    }
  }, 60_000);
});
