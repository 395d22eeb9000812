import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalKafka, type LocalKafka } from '../../scripts/kafka-local.js';
import {
  githubFixture,
  githubFixtureEvent,
  githubRequest,
  type GithubFixtureName,
} from '../fixtures/github-request.js';
import { hasKafka, kafkaBrokers } from '../support/kafka.js';
import { freePort } from '../support/process-stack/free-port.js';
import { spawnProcess, waitHttp, type TestProcess } from '../support/process-stack/process.js';
import type { RawRequest } from '../../src/receivers/types.js';

const SECRET = 'github-secret-of-receiver-kafka';
const KEY = Buffer.alloc(32, 11).toString('base64');
const EVENTS: GithubFixtureName[] = [
  'synthetic-deployment_protection_rule.requested',
  'deployment_status.success',
  'workflow_run.completed',
  'workflow_job.completed',
  'check_suite.completed',
  'push',
];
const run = `${process.pid}-${Date.now()}`;

function post(url: string, request: Pick<RawRequest, 'headers' | 'body'>) {
  return fetch(`${url}/hooks/github`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
}

/**
 * A recorded payload resent under a new id is a replay (the receiver dedupes on the signed
 * bytes), so each test delivery gets one added top-level key naming it; no field is changed.
 */
function delivery(name: GithubFixtureName, id: string) {
  const payload = { ...githubFixture(name), changegate_test_delivery: id };
  return githubRequest(githubFixtureEvent(name), payload, { secret: SECRET, deliveryId: id });
}

/** `changegate tail <topic>` as a process: the CloudEvent ids it printed. */
async function tailIds(env: Record<string, string>): Promise<string[]> {
  const tail = spawnProcess({
    name: 'tail',
    args: ['tail', 'changegate.cicd.events', '--from-beginning', '--idle-ms', '4000'],
    env,
  });
  expect((await tail.exited).code).toBe(0);
  return tail
    .stdout()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event?: { id: string } }).event?.id ?? '');
}

async function startReceiver(
  env: Record<string, string>,
): Promise<{ proc: TestProcess; url: string }> {
  const port = await freePort();
  const proc = spawnProcess({
    name: 'receiver',
    args: ['start'],
    env: { ...env, PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/readyz`, proc);
  return { proc, url };
}

describe.skipIf(!hasKafka())('changegate start on Kafka, as a process', () => {
  let env: Record<string, string>;
  let receiver: { proc: TestProcess; url: string };

  beforeAll(async () => {
    env = {
      KAFKA_BROKERS: kafkaBrokers().join(','),
      CHANGEGATE_GITHUB_SECRET: SECRET,
      CHANGEGATE_ENCRYPTION_KEY: KEY,
    };
    receiver = await startReceiver(env);
  });
  afterAll(async () => {
    await receiver?.proc.stop();
  });

  it('publishes every accepted GitHub delivery exactly once, readable with changegate tail', async () => {
    const ids = EVENTS.map((name, i) => `${run}-${i}`);
    for (const [i, name] of EVENTS.entries()) {
      expect((await post(receiver.url, delivery(name, ids[i]!))).status).toBe(202);
    }
    expect(
      (
        await post(
          receiver.url,
          githubRequest('ping', githubFixture('ping'), {
            secret: SECRET,
            deliveryId: `${run}-ping`,
          }),
        )
      ).status,
    ).toBe(200);
    // Redeliveries and forgeries add nothing.
    expect((await post(receiver.url, delivery(EVENTS[0]!, ids[0]!))).status).toBe(200);
    expect((await post(receiver.url, delivery(EVENTS[1]!, ids[1]!))).status).toBe(200);
    expect(
      (
        await post(
          receiver.url,
          githubRequest('push', githubFixture('push'), {
            secret: SECRET,
            deliveryId: `${run}-forged`,
            tamper: true,
          }),
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await post(
          receiver.url,
          githubRequest('push', githubFixture('push'), {
            secret: 'not-s',
            deliveryId: `${run}-wrongkey`,
          }),
        )
      ).status,
    ).toBe(401);

    const seen = await tailIds(env);
    for (const id of ids)
      expect(
        seen.filter((s) => s === id),
        id,
      ).toHaveLength(1);
    expect(
      seen.filter(
        (s) =>
          s.startsWith(`${run}-ping`) ||
          s.startsWith(`${run}-forged`) ||
          s.startsWith(`${run}-wrongkey`),
      ),
    ).toEqual([]);
  });

  it('still drops a redelivery after the receiver restarts (the delivery log lives in Kafka)', async () => {
    const id = `${run}-restart`;
    expect((await post(receiver.url, delivery('push', id))).status).toBe(202);
    expect((await receiver.proc.stop()).code).toBe(0);
    receiver = await startReceiver(env);
    const again = await post(receiver.url, delivery('push', id));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect((await tailIds(env)).filter((s) => s === id)).toHaveLength(1);
  });
});

describe.skipIf(!hasKafka() || Boolean(process.env.KAFKA_BROKERS))(
  'a Kafka outage under load',
  () => {
    let kafka: LocalKafka;
    let receiver: { proc: TestProcess; url: string };
    let env: Record<string, string>;
    const port = 29092;

    beforeAll(async () => {
      kafka = await startLocalKafka({ port, fresh: true });
      env = {
        KAFKA_BROKERS: kafka.brokers,
        CHANGEGATE_GITHUB_SECRET: SECRET,
        CHANGEGATE_ENCRYPTION_KEY: KEY,
      };
      receiver = await startReceiver(env);
    }, 180_000);
    afterAll(async () => {
      await receiver?.proc.stop();
      await kafka?.stop();
    });

    it('answers 202 from the spool (never 5xx) while the broker is down, and forwards each delivery once after it is back, without a restart', async () => {
      const accepted: string[] = [];
      const statuses: number[] = [];
      let n = 0;
      const send = async () => {
        const id = `${run}-load-${n++}`;
        const res = await post(receiver.url, delivery('push', id));
        statuses.push(res.status);
        if (res.status === 202) accepted.push(id);
        return res;
      };
      for (let i = 0; i < 20; i++) expect((await send()).status).toBe(202);

      await kafka.stop();
      const during: (string | null)[] = [];
      for (let i = 0; i < 3; i++) during.push((await send()).headers.get('changegate-durability'));
      expect(during).toEqual(['spooled', 'spooled', 'spooled']);

      kafka = await startLocalKafka({ port });
      let recovered = false;
      const deadline = Date.now() + 60_000;
      while (!recovered && Date.now() < deadline) {
        recovered = (await send()).headers.get('changegate-durability') === 'kafka';
        if (!recovered) await new Promise((r) => setTimeout(r, 500));
      }
      expect(recovered).toBe(true);
      for (let i = 0; i < 10; i++) expect((await send()).status).toBe(202);
      expect(statuses.every((s) => s === 202)).toBe(true);

      // Every acknowledged delivery is on the topic: nothing acknowledged was lost.
      const ids = await tailIds(env);
      const seen = new Set(ids);
      const lost = accepted.filter((id) => !seen.has(id));
      const twice = accepted.filter((id) => ids.filter((s) => s === id).length > 1);
      console.log(
        `[outage] sent ${statuses.length}, acknowledged ${accepted.length}, lost ${lost.length}, twice ${twice.length}`,
      );
      expect(lost).toEqual([]);
      expect(twice).toEqual([]);
    }, 240_000);
  },
);
