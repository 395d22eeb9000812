import { z } from 'zod';
import { AllowEntrySchema, secretList } from '../../config/provider-entries.js';
import { WhsecSchema } from '../../config/primitives.js';

/** Standard-Webhooks sources by name (`/hooks/generic/:source`); `*` applies to any name. */
export const GenericSourceSchema = z
  .record(z.string(), z.object({ secrets: secretList(WhsecSchema) }))
  .default({});

/** A generic source's own callback secret and the only places its callbacks may go. */
const GenericCallbackSourceSchema = z.object({
  secret: WhsecSchema,
  allowList: z.array(AllowEntrySchema).min(1, 'needs at least one entry'),
});

/**
 * Generic callbacks. `sources.<name>` (the `/hooks/generic/<name>` source) signs with its
 * own secret and calls only its own allow-list; `secret` signs for sources not listed there
 * (their URLs checked against `ci.allowList`).
 */
export const GenericCiSchema = z
  .object({
    secret: WhsecSchema.optional(),
    sources: z.record(z.string(), GenericCallbackSourceSchema).default({}),
  })
  .refine(
    (g) => g.secret !== undefined || Object.keys(g.sources).length > 0,
    'ci.generic needs secret or sources',
  )
  .optional();
export type GenericCiConfig = NonNullable<z.output<typeof GenericCiSchema>>;
