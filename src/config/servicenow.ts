/**
 * ServiceNow connections: several instances (prod, sub-prod, a sandbox) can be configured by name
 * and chosen per project/environment; `default` names the one used when nothing else is said.
 *
 * @module
 */
import { z } from 'zod';

const SECOND = 1000;

const nonEmpty = z.string().min(1);

const OAuthSchema = z
  .object({
    type: z.literal('oauth'),
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    /**
     * `client_credentials` needs Washington DC or later, the system property
     * `glide.oauth.inbound.client.credential.grant_type.enabled=true` and an OAuth Application
     * User on the registry entry; `password` works everywhere but needs a user's credentials too.
     */
    grant: z.enum(['client_credentials', 'password']).default('client_credentials'),
    username: nonEmpty.optional(),
    password: nonEmpty.optional(),
  })
  .superRefine((a, ctx) => {
    if (a.grant === 'password' && (!a.username || !a.password)) {
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'the OAuth password grant needs username and password',
      });
    }
  });

const BasicSchema = z.object({ type: z.literal('basic'), username: nonEmpty, password: nonEmpty });

export const ServiceNowAuthSchema = z.discriminatedUnion('type', [OAuthSchema, BasicSchema]);

export const ServiceNowConnectionSchema = z.object({
  /** Instance base URL, e.g. `https://acme.service-now.com` (no trailing `/api`). */
  url: z
    .string()
    .regex(
      /^https?:\/\/[^\s/]+(\/[^\s]*)?$/,
      'must be an http(s) URL such as https://acme.service-now.com',
    )
    .transform((u) => u.replace(/\/+$/, '')),
  auth: ServiceNowAuthSchema,
  /** Per HTTP request, body included. */
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(30 * SECOND),
  /** Retries after the first attempt, for 429/5xx/timeouts/network errors. */
  maxRetries: z.number().int().min(0).max(10).default(4),
  retry: z
    .object({
      baseDelayMs: z.number().int().positive().default(250),
      maxDelayMs: z
        .number()
        .int()
        .positive()
        .default(30 * SECOND),
      /** A Retry-After / X-RateLimit-Reset further out than this fails fast (worker reschedules). */
      maxRetryAfterMs: z
        .number()
        .int()
        .positive()
        .default(120 * SECOND),
    })
    .prefault({}),
  /** Client-side token bucket per connection, below the instance's sys_rate_limit_rules. */
  rateLimit: z
    .object({
      requestsPerSecond: z.number().positive().default(20),
      burst: z.number().int().positive().default(40),
    })
    .prefault({}),
  /** Renew an OAuth token this long before it expires (capped at 10% of its lifetime). */
  tokenRefreshSkewMs: z
    .number()
    .int()
    .nonnegative()
    .default(60 * SECOND),
});

export const ServiceNowSchema = z
  .object({
    default: z.string().min(1).default('main'),
    connections: z.record(z.string().min(1), ServiceNowConnectionSchema).default({}),
  })
  .superRefine((s, ctx) => {
    const names = Object.keys(s.connections);
    if (names.length > 0 && !names.includes(s.default)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `names no connection (configured: ${names.join(', ')})`,
      });
    }
  })
  .default({ default: 'main', connections: {} });

export type ServiceNowConfig = z.infer<typeof ServiceNowSchema>;
export type ServiceNowConnection = z.infer<typeof ServiceNowConnectionSchema>;
export type ServiceNowConnectionInput = z.input<typeof ServiceNowConnectionSchema>;
export type ServiceNowAuth = z.infer<typeof ServiceNowAuthSchema>;

/**
 * The one `main` connection the env variables describe, or nothing when
 * `CHANGEGATE_SERVICENOW_URL` is unset. Client id + secret select OAuth (password grant when a
 * user and password are also given); a user and password alone select basic auth.
 */
export function servicenowFromEnv(
  env: Record<string, string | undefined>,
): Record<string, unknown> | undefined {
  const url = env.CHANGEGATE_SERVICENOW_URL;
  if (!url) return undefined;
  const clientId = env.CHANGEGATE_SERVICENOW_CLIENT_ID;
  const clientSecret = env.CHANGEGATE_SERVICENOW_CLIENT_SECRET;
  const username = env.CHANGEGATE_SERVICENOW_USER;
  const password = env.CHANGEGATE_SERVICENOW_PASSWORD;
  let auth: Record<string, unknown> | undefined;
  if (clientId || clientSecret) {
    auth =
      username && password
        ? { type: 'oauth', clientId, clientSecret, grant: 'password', username, password }
        : { type: 'oauth', clientId, clientSecret };
  } else if (username || password) {
    auth = { type: 'basic', username, password };
  }
  return { default: 'main', connections: { main: { url, auth } } };
}
