import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import type { WorkersRuntime } from '../../../src/runtime/workers.js';
import {
  startChatReceiver,
  type ChatPost,
  type ChatReceiver,
} from '../../../src/sandbox/chat/index.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { deploymentRequested, postJenkins, startMore } from './evidence-harness.js';

let stack: Stack;
let chat: ChatReceiver;
let more: WorkersRuntime;

beforeAll(async () => {
  chat = await startChatReceiver();
  stack = await startStack({
    config: {
      changes: {
        policies: [
          {
            name: 'staging-standard',
            match: { environment: 'staging' },
            mode: 'standard',
            template: 'No such template',
          },
          { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
        ],
      },
      notify: {
        waitingAfterMinutes: 0.03, // 1.8 s
        channels: [
          { name: 'ops-slack', kind: 'slack', url: chat.slackUrl('ops') },
          {
            name: 'cab-teams',
            kind: 'teams',
            url: chat.teamsUrl('cab'),
            reasons: ['emergency-approval', 'gate-rejected'],
          },
          { name: 'pager', kind: 'webhook', url: chat.webhookUrl('pager'), secret: chat.secret },
        ],
      },
    },
  });
  more = await startMore(stack, ['notify']);
});
afterAll(async () => {
  await more?.close();
  await stack?.close();
  await chat?.close();
});

/** Which reason a post is about, whatever the channel. */
function reasonOf(p: ChatPost): string {
  const b = p.body as Record<string, unknown>;
  if (p.kind === 'webhook') return String((b.data as Record<string, unknown>).reason);
  const text = JSON.stringify(b);
  if (text.includes('awaits approval')) return 'emergency-approval';
  if (text.includes('gate rejected')) return 'gate-rejected';
  if (text.includes('waiting on')) return 'gate-waiting';
  if (text.includes('Could not create a change')) return 'change-failed';
  return 'unknown';
}
const posts = (reason: string, number?: string) =>
  chat
    .accepted()
    .filter((p) => reasonOf(p) === reason && (!number || JSON.stringify(p.body).includes(number)));
const settle = () => new Promise((r) => setTimeout(r, 1500));

async function requestGate(
  deploymentId: string,
  build: number,
  extra: Record<string, unknown> = {},
) {
  const url = stack.ci.jenkins.pending('payments/main', build);
  await postJenkins(
    stack,
    deploymentRequested(deploymentId, { callback: { kind: 'jenkins', url }, ...extra }),
  );
  return eventually(() =>
    stack.servicenow.admin
      .records('change_request')
      .find(
        (r) =>
          r.correlation_id === `jenkins/acme/payments/${deploymentId}` &&
          r.approval === 'requested',
      ),
  );
}

describe('notify worker, chat receiver over HTTP (memory bus)', () => {
  it('announces an emergency CR awaiting approval once on every channel, with the CR link', async () => {
    const cr = await requestGate('nt-emergency', 201, { emergency: true });
    expect(cr.type).toBe('emergency');
    await eventually(() => posts('emergency-approval', cr.number).length === 3);
    const link = `${stack.servicenow.url}/nav_to.do?uri=change_request.do?sys_id=${cr.sys_id}`;
    const [slack] = posts('emergency-approval', cr.number).filter((p) => p.kind === 'slack');
    expect((slack!.body as { text: string }).text).toBe(
      `Emergency change ${cr.number} awaits approval ${link}`,
    );
    const [teams] = posts('emergency-approval', cr.number).filter((p) => p.kind === 'teams');
    expect(JSON.stringify(teams!.body)).toContain(
      `"type":"Action.OpenUrl","title":"Open ${cr.number} in ServiceNow","url":"${link}"`,
    );
    const [hook] = posts('emergency-approval', cr.number).filter((p) => p.kind === 'webhook');
    expect((hook!.body as { data: { link: string; runUrl: string } }).data).toMatchObject({
      link,
      runUrl: 'https://ci.acme.example/job/payments/nt-emergency/',
    });
    await settle();
    expect(posts('emergency-approval', cr.number)).toHaveLength(3);
  });

  it('reminds once that a gate is still waiting, and tells once that it was rejected', async () => {
    const cr = await requestGate('nt-reject', 202);
    // Teams does not hear about waiting gates; Slack and the webhook do.
    await eventually(() => posts('gate-waiting', cr.number).length === 2, 8000);
    stack.servicenow.admin.reject(cr.number!, 'not this week');
    await eventually(() => posts('gate-rejected', cr.number).length === 3);
    const [slack] = posts('gate-rejected', cr.number).filter((p) => p.kind === 'slack');
    expect(JSON.stringify(slack!.body)).toContain(`sys_id=${cr.sys_id}`);
    const [hook] = posts('gate-rejected', cr.number).filter((p) => p.kind === 'webhook');
    expect((hook!.body as { data: Record<string, string> }).data).toMatchObject({
      reason: 'gate-rejected',
      number: cr.number,
      environment: 'production',
    });
    await settle();
    expect(posts('gate-waiting', cr.number)).toHaveLength(2);
    expect(posts('gate-rejected', cr.number)).toHaveLength(3);
  });

  it('does not remind about a gate decided before the threshold', async () => {
    const cr = await requestGate('nt-fast', 203);
    stack.servicenow.admin.approve(cr.number!);
    await stack.ci.waitFor((c) => c.effect === 'released' && c.path.includes('/203/'), 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(posts('gate-waiting', cr.number)).toHaveLength(0);
    expect(more.notify!.waiting().some((t) => t.number === cr.number)).toBe(false);
  });

  it('tells when the change worker could not create a change (dead-lettered)', async () => {
    await postJenkins(stack, {
      ...deploymentRequested('nt-broken'),
      data: { ...deploymentRequested('nt-broken').data, environment: 'staging' },
    });
    const post = await chat.waitFor(
      (p) => p.kind === 'webhook' && reasonOf(p) === 'change-failed',
      20_000,
    );
    expect((post.body as { data: Record<string, string> }).data).toMatchObject({
      correlationId: 'jenkins/acme/payments/nt-broken',
      environment: 'staging',
      error: "standard change template 'No such template' not found",
    });
    await eventually(() => posts('change-failed').length === 2); // slack + webhook
  }, 30_000);

  it('sends nothing again after a restart when a decision is redelivered', async () => {
    const cr = stack.servicenow.admin
      .records('change_request')
      .find((r) => r.correlation_id === 'jenkins/acme/payments/nt-reject')!;
    await more.close();
    more = await startMore(stack, ['notify']);
    let rejected: ConsumedRecord | undefined;
    await stack.bus.readToEnd(stack.config.kafka.topics.changes, (r) => {
      if (fromRecord(r).type === 'dev.changegate.gate.rejected' && r.key === cr.number)
        rejected = r;
    });
    const { topic, key, value, headers } = rejected!;
    const before = chat.received().length;
    await stack.bus.publish([{ topic, key, value, headers }]);
    await settle();
    expect(chat.received().length).toBe(before);
  });
});
