import { z } from 'zod';
import { SECOND, WhsecSchema } from './primitives.js';

/**
 * Configuration of the notify worker (`notify:` in the YAML): chat channels, which situations
 * each one hears about, and the message templates.
 *
 * @module
 */

/** What a release manager must act on; also the dedupe unit together with the CR. */
export const NOTIFY_REASONS = [
  'emergency-approval',
  'gate-rejected',
  'gate-expired',
  'gate-waiting',
  'change-failed',
] as const;
export type NotifyReason = (typeof NOTIFY_REASONS)[number];

export const ChannelSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'must be a short slug'),
    /** slack: incoming webhook · teams: Workflows webhook (Adaptive Card) · webhook: Standard Webhooks. */
    kind: z.enum(['slack', 'teams', 'webhook']),
    /** The webhook URL is a secret (it alone authorizes posting): it never reaches the logs. */
    url: z.url(),
    /** `kind: webhook` only: signs each POST as a Standard Webhook. */
    secret: WhsecSchema.optional(),
    /** Reasons this channel hears about; default all. */
    reasons: z
      .array(z.enum(NOTIFY_REASONS))
      .min(1)
      .default([...NOTIFY_REASONS]),
  })
  .refine((c) => c.kind !== 'webhook' || c.secret, {
    message: 'a webhook channel needs a secret (whsec_…) to sign with',
    path: ['secret'],
  });
export type NotifyChannel = z.infer<typeof ChannelSchema>;

const Template = z.object({ title: z.string().min(1), text: z.string().min(1) });

/**
 * `{{number}}`, `{{link}}` (the CR in ServiceNow), `{{runUrl}}`, `{{project}}`,
 * `{{environment}}`, `{{shortDescription}}`, `{{reason}}`, `{{waited}}`, `{{error}}`.
 */
export const TemplatesSchema = z
  .object({
    'emergency-approval': Template.default({
      title: 'Emergency change {{number}} awaits approval',
      text: '{{shortDescription}} — approve or reject it in ServiceNow.',
    }),
    'gate-rejected': Template.default({
      title: 'Deployment gate rejected for {{number}}',
      text: '{{project}} → {{environment}} was stopped: {{reason}}.',
    }),
    'gate-expired': Template.default({
      title: 'Deployment gate expired for {{number}}',
      text: '{{project}} → {{environment}} waited {{waited}} with no decision: {{reason}}.',
    }),
    'gate-waiting': Template.default({
      title: 'Deployment waiting on {{number}} for {{waited}}',
      text: '{{project}} → {{environment}} is held until {{number}} is approved and in its window.',
    }),
    'change-failed': Template.default({
      title: 'Could not create a change for {{project}} → {{environment}}',
      text: 'The deployment cannot proceed: {{error}}',
    }),
  })
  .prefault({});

export const NotifySchema = z
  .object({
    channels: z.array(ChannelSchema).default([]),
    /** A gate still undecided after this long is announced once (`gate-waiting`). */
    // Node timers stop at ~24.8 days; a longer wait would fire early.
    waitingAfterMinutes: z.number().positive().max(35_000).default(60),
    templates: TemplatesSchema,
    /** Compacted topic holding what was sent and the waiting timers, so both survive a restart. */
    stateTopic: z.string().min(1).default('changegate.notify-state'),
    /** ServiceNow connection whose URL builds the CR links (default connection when absent). */
    connection: z.string().optional(),
    /** Per chat request. */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND),
    /** Attempts per chat request (429/5xx/network), backing off with jitter. */
    attempts: z.number().int().min(1).max(10).default(4),
  })
  .prefault({});

export type NotifyConfig = z.infer<typeof NotifySchema>;
export type NotifyConfigInput = z.input<typeof NotifySchema>;
