import { z } from 'zod';
import { ApproverSchema, ChangeSnapshotSchema, GateDataSchema } from '../events/gate.js';

/**
 * What the gate worker keeps per CR, as zod schemas: the state machine's types are inferred
 * from them, and the gate changelog's records are parsed with them when a partition is
 * restored, so a record of another shape is skipped instead of trusted.
 *
 * @module
 */

export const OutcomeSchema = z.enum(['released', 'rejected', 'expired']);
export type Outcome = z.infer<typeof OutcomeSchema>;

export const GateEntrySchema = z.object({
  gate: GateDataSchema,
  /** deciding: the decision is taken and persisted, the CI callback has not answered yet. */
  status: z.union([z.enum(['waiting', 'deciding']), OutcomeSchema]),
  expiresAt: z.number(),
  outcome: OutcomeSchema.optional(),
  reason: z.string(),
  decidedAt: z.number().optional(),
  /** When the input that made the decision possible arrived (for release latency). */
  triggeredAt: z.number().optional(),
  /** waiting: when the rules want to look again (a window start, a blackout end). */
  until: z.number().optional(),
  /** deciding: when the CI system is called (again); a callback in flight holds a lease. */
  retryAt: z.number().optional(),
  /** deciding: rounds of callback attempts that stayed unreachable. */
  callbackRounds: z.number().int().nonnegative().optional(),
});
export type GateEntry = z.infer<typeof GateEntrySchema>;

/** Everything the gate worker knows about one CR; the state of one key of the gate changelog. */
export const CrStateSchema = z.object({
  number: z.string(),
  change: ChangeSnapshotSchema.optional(),
  gates: z.record(z.string(), GateEntrySchema),
  advanceRequested: z.boolean().optional(),
  /** A move to Implement failed: asked again at this time. */
  advanceRetryAt: z.number().optional(),
  leftImplementReported: z.boolean().optional(),
  /** Who approved the CR, read once when a gate would release; cleared when the approval changes. */
  approvedBy: z.array(ApproverSchema).optional(),
  /** The approvers were asked for and have not answered (or could not be read: `approversError`). */
  approversRequested: z.boolean().optional(),
  approversError: z.string().optional(),
  touchedAt: z.number(),
});
export type CrState = z.infer<typeof CrStateSchema>;
