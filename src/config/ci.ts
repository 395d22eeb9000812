import { z } from 'zod';
import { ciShape } from '../providers/config-sections.js';
import { AddressEntrySchema, AllowEntrySchema } from './provider-entries.js';
import { SECOND } from './primitives.js';

/**
 * Configuration of the CI callback clients (`ci:` in the YAML): the shared keys here, each
 * provider's section from its `src/providers/<name>/config.ts`. Every key has a default so the
 * demo needs none.
 *
 * @module
 */

export { AllowEntrySchema } from './provider-entries.js';

export const CiSchema = z
  .object({
    /**
     * Callback URLs must match one entry, else the call is refused (SSRF guard). Empty refuses
     * every callback: CI systems put these URLs in webhooks, so they are attacker-controlled input.
     */
    allowList: z.array(AllowEntrySchema).default([]),
    /** Allow http and https callbacks to 127.0.0.0/8, ::1 and localhost: tests and the demo only. */
    allowLoopback: z.boolean().default(false),
    /**
     * Callback hosts must resolve to public addresses; private, link-local and other
     * special-purpose ones (10/8, 169.254/16, fc00::/7, …) only when listed here. Loopback is
     * `allowLoopback`.
     */
    allowAddresses: z.array(AddressEntrySchema).default([]),
    /** Per HTTP request, token exchange included. */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND),
    /** `github`, `gitlab`, `jenkins`, `azureDevops`, `generic`: each provider's own section. */
    ...ciShape(),
  })
  // prefault, not default: zod 4 returns a default as-is, so inner defaults would be skipped.
  .prefault({});

export type CiConfig = z.infer<typeof CiSchema>;
export type CiConfigInput = z.input<typeof CiSchema>;
