import { createHash } from 'node:crypto';
import type { NotifyChannel } from '../../config/notify.js';
import { sign } from '../../security/standard-webhooks.js';
import type { Notification } from './message.js';

/**
 * Channel bodies. Slack incoming webhooks take `{text, blocks}` (text is the fallback shown in
 * notifications; https://api.slack.com/messaging/webhooks). Teams: Office 365 connector
 * webhooks are being retired in favour of Workflows webhooks, which accept Adaptive Cards only,
 * wrapped as a `message` with one `application/vnd.microsoft.card.adaptive` attachment. The
 * generic webhook is a Standard-Webhooks-signed `{type, timestamp, data}`.
 *
 * @module
 */

export interface ChannelRequest {
  headers: Record<string, string>;
  body: string;
}

/** Slack mrkdwn escapes only these three (https://api.slack.com/reference/surfaces/formatting). */
const slackEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function links(n: Notification): { label: string; url: string }[] {
  const out: { label: string; url: string }[] = [];
  if (n.vars.link)
    out.push({ label: `Open ${n.vars.number ?? 'change'} in ServiceNow`, url: n.vars.link });
  if (n.vars.runUrl) out.push({ label: 'Open the pipeline run', url: n.vars.runUrl });
  return out;
}

function facts(n: Notification): { title: string; value: string }[] {
  const v = n.vars;
  return [
    ['Change', v.number],
    ['Project', v.project],
    ['Environment', v.environment],
  ]
    .filter((f): f is [string, string] => Boolean(f[1]))
    .map(([title, value]) => ({ title, value }));
}

export function slackBody(n: Notification): unknown {
  const linkLine = links(n)
    .map((l) => `<${l.url}|${slackEscape(l.label)}>`)
    .join('  ·  ');
  return {
    text: `${n.title}${n.vars.link ? ` ${n.vars.link}` : ''}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: n.title.slice(0, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(n.text) } },
      ...(facts(n).length
        ? [
            {
              type: 'section',
              fields: facts(n).map((f) => ({
                type: 'mrkdwn',
                text: `*${f.title}*\n${slackEscape(f.value)}`,
              })),
            },
          ]
        : []),
      ...(linkLine ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: linkLine }] }] : []),
    ],
  };
}

export function teamsBody(n: Notification): unknown {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: n.title, weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text: n.text, wrap: true },
            ...(facts(n).length ? [{ type: 'FactSet', facts: facts(n) }] : []),
          ],
          actions: links(n).map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url })),
        },
      },
    ],
  };
}

/** Same notification, same channel → same `webhook-id`: the receiver can dedupe a resend. */
export function webhookMessageId(channel: string, n: Notification): string {
  const digest = createHash('sha256')
    .update(`${channel}\n${n.subject}\n${n.reason}`)
    .digest('base64url');
  return `msg_${digest.slice(0, 27)}`;
}

/** The request for one channel (URL excluded: callers keep it out of logs). */
export function channelRequest(channel: NotifyChannel, n: Notification, at: Date): ChannelRequest {
  if (channel.kind === 'slack' || channel.kind === 'teams') {
    const body = JSON.stringify(channel.kind === 'slack' ? slackBody(n) : teamsBody(n));
    return { headers: { 'content-type': 'application/json' }, body };
  }
  // The template variable `reason` (why the gate decided) travels as `cause`, so it cannot
  // shadow the notification's own reason.
  const { reason: cause, ...vars } = n.vars;
  const body = JSON.stringify({
    type: `changegate.notify.${n.reason}`,
    timestamp: at.toISOString(),
    data: {
      ...vars,
      ...(cause ? { cause } : {}),
      reason: n.reason,
      subject: n.subject,
      title: n.title,
      text: n.text,
    },
  });
  return {
    headers: {
      'content-type': 'application/json',
      ...sign(channel.secret!, webhookMessageId(channel.name, n), at, body),
    },
    body,
  };
}
