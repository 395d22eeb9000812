import type { NotifyConfig, NotifyReason } from '../../config/notify.js';
import { render } from '../../policy/template.js';

/**
 * One notification, rendered from the configured templates, channel-neutral. The channel
 * formatters (channels.ts) turn it into a Slack, Teams or Standard-Webhooks body.
 *
 * @module
 */

export interface NotificationVars {
  number?: string | undefined;
  /** The CR in ServiceNow. */
  link?: string | undefined;
  runUrl?: string | undefined;
  project?: string | undefined;
  environment?: string | undefined;
  shortDescription?: string | undefined;
  reason?: string | undefined;
  waitedMs?: number | undefined;
  error?: string | undefined;
  correlationId?: string | undefined;
}

export interface Notification {
  reason: NotifyReason;
  /** What the dedupe is per, with the reason: the CR number, or the correlation id before one exists. */
  subject: string;
  title: string;
  text: string;
  vars: NotificationVars;
}

/**
 * `<instance>/nav_to.do?uri=change_request.do?sys_id=<sys_id>`: opens the CR inside the
 * instance frame. A sys_id is 32 hex characters, so nothing needs escaping.
 */
export function changeLink(instanceUrl: string, sysId: string): string {
  return `${instanceUrl.replace(/\/+$/, '')}/nav_to.do?uri=change_request.do?sys_id=${sysId}`;
}

/** `2 h 5 min`, `45 min`, `30 s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** Fill the reason's template; missing values render empty rather than failing the message. */
export function renderNotification(
  templates: NotifyConfig['templates'],
  reason: NotifyReason,
  subject: string,
  vars: NotificationVars,
): Notification {
  const t = templates[reason];
  const values = {
    ...vars,
    waited: vars.waitedMs !== undefined ? formatDuration(vars.waitedMs) : '',
  };
  return {
    reason,
    subject,
    title: render(t.title, values).trim(),
    text: render(t.text, values).trim(),
    vars,
  };
}
