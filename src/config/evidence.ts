import { z } from 'zod';
import { AllowEntrySchema } from './ci.js';
import { MIB, SECOND } from './primitives.js';

/**
 * Configuration of the evidence worker (`evidence:` in the YAML): what it may download, how big
 * an attachment may get, and how long it waits for a CR that is still being created.
 *
 * @module
 */

export const EvidenceSchema = z
  .object({
    /** ServiceNow connection name (default connection when absent). */
    connection: z.string().optional(),
    /**
     * Per attachment. A report over it is cut to fit, a note saying so is appended to the file,
     * and the summary work note names it. 5 MiB keeps well under the instance's
     * `com.glide.attachment.max_size`.
     */
    maxAttachmentBytes: z
      .number()
      .int()
      .min(1024)
      .default(5 * MIB),
    /** Reports given as a URL. URLs arrive inside webhooks, so they are input: allow-listed. */
    fetch: z
      .object({
        /** URL prefixes or host patterns, as `ci.allowList`. Empty refuses every URL. */
        allowList: z.array(AllowEntrySchema).default([]),
        /** Loopback URLs pass without an entry: tests and the demo only. */
        allowLoopback: z.boolean().default(false),
        timeoutMs: z
          .number()
          .int()
          .positive()
          .default(15 * SECOND),
        /** Bytes read from a URL; the rest is not downloaded (and the report counts as cut). */
        maxBytes: z
          .number()
          .int()
          .min(1024)
          .default(20 * MIB),
        /** Sent as `Authorization` to allow-listed URLs, e.g. `Bearer ${CI_ARTIFACT_TOKEN}`. */
        authorization: z.string().optional(),
      })
      .prefault({}),
    /**
     * The CR may still be being created when the report arrives (the change worker runs in
     * parallel): look it up this many times, doubling the delay, before dead-lettering.
     */
    lookup: z
      .object({
        attempts: z.number().int().min(1).max(20).default(6),
        baseDelayMs: z.number().int().nonnegative().default(500),
        maxDelayMs: z
          .number()
          .int()
          .positive()
          .default(10 * SECOND),
      })
      .prefault({}),
    /** Failures listed in the summary work note. */
    topFailures: z.number().int().min(0).max(50).default(5),
  })
  // prefault, not default: zod 4 returns a default as-is, so inner defaults would be skipped.
  .prefault({});

export type EvidenceConfig = z.infer<typeof EvidenceSchema>;
export type EvidenceConfigInput = z.input<typeof EvidenceSchema>;
