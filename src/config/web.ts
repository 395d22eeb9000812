import { z } from 'zod';

/**
 * The status page (`web:` in the YAML). It shows CR numbers, projects and failure reasons, so
 * outside the embedded mode it is served only behind a bearer token; with no token configured
 * it is off (404). Embedded mode (`bus: memory`, the demo) serves it without one: that mode
 * runs on a laptop and says it is not for production.
 *
 * @module
 */
export const WebSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Bearer token (or the same value typed into the page's sign-in form). */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    /** How many recent changes, decided gates and incidents the page keeps. */
    recent: z.number().int().positive().max(1000).default(50),
  })
  .prefault({});

export type WebConfig = z.infer<typeof WebSchema>;
