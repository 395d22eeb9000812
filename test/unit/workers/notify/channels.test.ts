import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelSchema } from '../../../../src/config/notify.js';
import { NotifySchema } from '../../../../src/config/notify.js';
import { verifyStandardWebhook } from '../../../../src/security/standard-webhooks.js';
import { startChatReceiver, type ChatReceiver } from '../../../../src/sandbox/chat/index.js';
import { channelRequest, webhookMessageId } from '../../../../src/workers/notify/channels.js';
import {
  changeLink,
  formatDuration,
  renderNotification,
} from '../../../../src/workers/notify/message.js';
import { retryAfterMs, sendToChannel } from '../../../../src/workers/notify/send.js';

const SYS_ID = '0123456789abcdef0123456789abcdef';
const templates = NotifySchema.parse({}).templates;
const n = renderNotification(templates, 'gate-rejected', 'CHG0010042', {
  number: 'CHG0010042',
  link: changeLink('https://acme.service-now.com/', SYS_ID),
  runUrl: 'https://ci.example/run/7',
  project: 'acme/<payments>',
  environment: 'production',
  reason: 'approval rejected',
});

let chat: ChatReceiver;
beforeAll(async () => {
  chat = await startChatReceiver();
});
afterAll(async () => chat?.close());

describe('notify messages and channels', () => {
  it('links the CR inside the instance frame', () => {
    expect(n.vars.link).toBe(
      `https://acme.service-now.com/nav_to.do?uri=change_request.do?sys_id=${SYS_ID}`,
    );
    expect(n.title).toBe('Deployment gate rejected for CHG0010042');
    expect(n.text).toBe('acme/<payments> → production was stopped: approval rejected.');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('2 h 5 min');
  });

  it('writes a Slack body with fallback text, escaped mrkdwn and both links', () => {
    const body = JSON.parse(
      channelRequest(
        ChannelSchema.parse({ name: 's', kind: 'slack', url: chat.slackUrl() }),
        n,
        new Date(),
      ).body,
    );
    expect(body.text).toBe(`Deployment gate rejected for CHG0010042 ${n.vars.link}`);
    const text = JSON.stringify(body.blocks);
    expect(text).toContain('acme/&lt;payments&gt;');
    expect(text).toContain(`<${n.vars.link}|Open CHG0010042 in ServiceNow>`);
    expect(text).toContain('<https://ci.example/run/7|Open the pipeline run>');
  });

  it('signs the generic webhook so the receiver verifies it, with a stable id per CR and reason', () => {
    const channel = ChannelSchema.parse({
      name: 'w',
      kind: 'webhook',
      url: chat.webhookUrl(),
      secret: chat.secret,
    });
    const req = channelRequest(channel, n, new Date());
    const id = verifyStandardWebhook(
      new Headers(req.headers),
      Buffer.from(req.body),
      [chat.secret],
      {
        now: new Date(),
        toleranceSeconds: 300,
      },
    );
    expect(id).toBe(webhookMessageId('w', n));
    expect(JSON.parse(req.body).data).toMatchObject({
      reason: 'gate-rejected',
      cause: 'approval rejected',
    });
  });

  it('refuses a webhook channel without a secret at config time', () => {
    expect(
      ChannelSchema.safeParse({ name: 'w', kind: 'webhook', url: 'https://hooks.example/x' })
        .success,
    ).toBe(false);
  });

  it('is accepted by the emulated Slack, Teams and webhook receivers', async () => {
    for (const channel of [
      ChannelSchema.parse({ name: 's', kind: 'slack', url: chat.slackUrl('a') }),
      ChannelSchema.parse({ name: 't', kind: 'teams', url: chat.teamsUrl('a') }),
      ChannelSchema.parse({
        name: 'w',
        kind: 'webhook',
        url: chat.webhookUrl('a'),
        secret: chat.secret,
      }),
    ]) {
      const status = await sendToChannel(channel, channelRequest(channel, n, new Date()), {
        timeoutMs: 2000,
        attempts: 1,
      });
      expect(status).toBe(channel.kind === 'teams' ? 202 : 200);
    }
    expect(chat.accepted().map((p) => p.kind)).toEqual(['slack', 'teams', 'webhook']);
  });

  it('retries a 429 and a 503, and never puts the webhook URL in an error', async () => {
    const channel = ChannelSchema.parse({
      name: 'ops',
      kind: 'slack',
      url: chat.slackUrl('secret-token-xyz'),
    });
    chat.failNext('slack', 429);
    chat.failNext('slack', 503);
    await expect(
      sendToChannel(channel, channelRequest(channel, n, new Date()), {
        timeoutMs: 2000,
        attempts: 3,
        baseDelayMs: 1,
      }),
    ).resolves.toBe(200);
    chat.failNext('slack', 404, 1);
    const err = await sendToChannel(channel, channelRequest(channel, n, new Date()), {
      timeoutMs: 2000,
      attempts: 3,
      baseDelayMs: 1,
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      '[changegate/workers/notify] channel ops (slack) answered HTTP 404 (fault injected)',
    );
    const down = ChannelSchema.parse({
      name: 'ops',
      kind: 'slack',
      url: 'http://127.0.0.1:1/slack/secret-token-xyz',
    });
    const unreachable = await sendToChannel(down, channelRequest(down, n, new Date()), {
      timeoutMs: 500,
      attempts: 2,
      baseDelayMs: 1,
    }).catch((e: Error) => e);
    expect((unreachable as Error).message).not.toContain('secret-token-xyz');
    expect(retryAfterMs('3')).toBe(3000);
  });
});
