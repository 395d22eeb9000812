import { z } from 'zod';

export const PROVIDERS = ['github', 'gitlab', 'jenkins', 'azure-devops', 'generic'] as const;
export const ProviderSchema = z.enum(PROVIDERS);
export type Provider = z.infer<typeof ProviderSchema>;

/**
 * Every URL an event carries is http(s): URLs arrive in webhooks and end up as links (status
 * page, CR descriptions) and as addresses workers call, so `javascript:`, `data:` or `file:`
 * never get that far.
 */
export const HttpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * Where and how to call the CI system back to release or reject a gate. Credentials never travel
 * in clear: `sealed` is a compact JWE (dir + A256GCM) of a JSON object only workers can open.
 */
export const CallbackSchema = z.object({
  kind: z.enum(['github', 'gitlab', 'azure-devops', 'jenkins', 'generic']),
  url: HttpUrlSchema,
  sealed: z.string().optional(),
  params: z.record(z.string(), z.string()).default({}),
});
export type Callback = z.infer<typeof CallbackSchema>;

/** The provider's payload, kept so subscribers lose nothing; cut when it exceeds the cap. */
export const RawSchema = z.object({
  truncated: z.boolean(),
  bytes: z.number().int().nonnegative(),
  payload: z.unknown(),
});
export type Raw = z.infer<typeof RawSchema>;

/** What every CI/CD event says about where it came from. */
export const CicdOriginSchema = z.object({
  provider: ProviderSchema,
  /** For `generic` deliveries: the `:source` path segment. */
  source: z.string().optional(),
  /** Repository or project path, e.g. `acme/payments`. */
  project: z.string().min(1),
  /** The original event name, e.g. `deployment_protection_rule` or `Pipeline Hook`. */
  event: z.string().min(1),
  deliveryId: z.string().min(1),
  raw: RawSchema,
});
