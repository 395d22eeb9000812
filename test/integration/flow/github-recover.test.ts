import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { createInstallationTokens } from '../../../src/providers/github/app.js';
import { createGithubAppHooks } from '../../../src/providers/github/app-hooks.js';
import { busRecoveryPoints, recoverGithub } from '../../../src/commands/recover-github.js';
import { githubFixture } from '../../fixtures/github-request.js';
import { judge, recordingFetch } from '../../support/github-openapi.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';

/**
 * `changegate recover github` against the emulated GitHub's delivery log: deliveries GitHub could
 * not make (changegate unreachable) are redelivered exactly once, a second run redelivers nothing,
 * and every redelivered event reaches Kafka once.
 */

let stack: Stack;
const cicd: ConsumedRecord[] = [];
const recorder = recordingFetch();

/** A URL on which nothing listens: a port that was free a moment ago. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/hooks/github`;
}

beforeAll(async () => {
  stack = await startStack();
  await stack.bus.subscribe({
    groupId: 't-recover-cicd',
    topics: [stack.config.kafka.topics.cicd],
    fromBeginning: true,
    handler: async (r) => void cicd.push(r),
  });
});
afterAll(async () => stack?.close());

function recovery() {
  const app = {
    appId: stack.ci.credentials.githubAppId,
    privateKey: stack.ci.credentials.githubAppPrivateKey!,
    apiUrl: stack.ci.url,
  };
  const http = { fetchImpl: recorder.impl, timeoutMs: 5000 };
  const tokens = createInstallationTokens(app, http);
  return {
    // Pages of 2, so the run follows `Link` across several pages.
    hooks: createGithubAppHooks({ ...app, perPage: 2 }, { ...http, appJwt: () => tokens.appJwt() }),
    points: busRecoveryPoints(stack.bus, stack.config.kafka.topics.recovery),
  };
}

const payload = (run: number) => {
  const p = githubFixture('workflow_run.completed');
  (p.workflow_run as { id: number }).id = run;
  return p;
};

describe('changegate recover github', () => {
  it('redelivers exactly the failed deliveries, once; a second run redelivers nothing', async () => {
    const hook = stack.ci.github.hook;
    hook.configure({ url: await deadUrl(), secret: SECRETS.github });
    const failed = [
      await hook.deliver('workflow_run', payload(9001)),
      await hook.deliver('workflow_run', payload(9002)),
      await hook.deliver('workflow_run', payload(9003)),
    ];
    // One of them failed twice: GitHub's own manual redelivery while changegate was still down.
    const again = await hook.redeliver(failed[1]!.id);
    expect([...failed, again!].map((d) => d.status)).toEqual(Array(4).fill('failed to connect'));

    hook.configure({ url: `${stack.receiver.url}/hooks/github`, secret: SECRETS.github });
    const ok = [
      await hook.deliver('workflow_run', payload(9004)),
      await hook.deliver('workflow_run', payload(9005)),
    ];
    expect(ok.map((d) => d.status)).toEqual(['OK', 'OK']);
    const logged = hook.log().length;

    const { hooks, points } = recovery();
    const first = await recoverGithub({ hooks, points });
    expect(first.examined).toBe(6);
    expect(new Set(first.redelivered.map((d) => d.guid))).toEqual(
      new Set(failed.map((d) => d.guid)),
    );
    // The newest attempt of the guid that failed twice, not both.
    expect(first.redelivered.map((d) => d.id)).toContain(again!.id);
    expect(first.redelivered.map((d) => d.id)).not.toContain(failed[1]!.id);

    const redeliveries = hook.log().slice(0, hook.log().length - logged);
    expect(redeliveries).toHaveLength(3);
    expect(redeliveries.every((d) => d.redelivery && d.status === 'OK')).toBe(true);
    expect(new Set(redeliveries.map((d) => d.guid))).toEqual(new Set(failed.map((d) => d.guid)));

    // Each of the five events is on Kafka once, under its GitHub delivery guid.
    const guids = [...failed, ...ok].map((d) => d.guid);
    await eventually(() => guids.every((g) => cicd.some((r) => r.headers.ce_id === g)));
    for (const g of guids) expect(cicd.filter((r) => r.headers.ce_id === g)).toHaveLength(1);

    const second = await recoverGithub({ hooks, points });
    expect(second.redelivered).toEqual([]);
    expect(hook.log()).toHaveLength(logged + 3);
    expect(Date.parse(second.from)).toBeGreaterThanOrEqual(Date.parse(first.from));

    // Every request the recovery made is one GitHub documents, answered as documented.
    const problems = recorder.exchanges.flatMap((x) => judge(x, stack.ci.url).problems);
    expect(problems).toEqual([]);
    const ops = new Set(recorder.exchanges.map((x) => judge(x, stack.ci.url).operationId));
    expect(ops).toEqual(
      new Set(['apps/list-webhook-deliveries', 'apps/redeliver-webhook-delivery']),
    );
    expect(
      recorder.exchanges.filter((x) => new URL(x.url).searchParams.has('cursor')).length,
    ).toBeGreaterThan(0);
  });

  it('a dry run lists what it would redeliver and changes nothing', async () => {
    const hook = stack.ci.github.hook;
    hook.configure({ url: await deadUrl(), secret: SECRETS.github });
    const lost = await hook.deliver('workflow_run', payload(9101));
    const logged = hook.log().length;
    const { hooks, points } = recovery();
    const before = await points.read('github');
    const dry = await recoverGithub({ hooks, points, dryRun: true });
    expect(dry.redelivered.map((d) => d.guid)).toEqual([lost.guid]);
    expect(hook.log()).toHaveLength(logged);
    expect(await points.read('github')).toBe(before);

    hook.configure({ url: `${stack.receiver.url}/hooks/github`, secret: SECRETS.github });
    const real = await recoverGithub({ hooks, points });
    expect(real.redelivered.map((d) => d.guid)).toEqual([lost.guid]);
    await eventually(() => cicd.some((r) => r.headers.ce_id === lost.guid));
  });
});
