import { z } from 'zod';

/**
 * What a stateful processor writes to its changelog for one key: the user's state, parsed with
 * the user's schema on the way back, and the key's timers (name → due, ms since epoch), so the
 * timers are restored with the state they belong to. A tombstone (null value) forgets the key.
 * Pure: encoding, decoding and the timer arithmetic of an outcome.
 *
 * @module
 */

export const TimersSchema = z.record(z.string().min(1), z.number().int().nonnegative());
export type Timers = z.infer<typeof TimersSchema>;

/** The envelope; `state` is parsed with the user's schema next, so its type is theirs. */
const EnvelopeSchema = z.object({ state: z.unknown(), timers: TimersSchema.default({}) });

export interface Entry<T> {
  state: T;
  timers: Timers;
}

export type Decoded<T> = { ok: true; entry: Entry<T> | null } | { ok: false; error: string };

/** A changelog value back to an entry (`null` for a tombstone); never throws. */
export function decodeEntry<S extends z.ZodType>(
  schema: S,
  value: Buffer | null,
): Decoded<z.output<S>> {
  if (value === null) return { ok: true, entry: null };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, error: z.prettifyError(envelope.error) };
  if (envelope.data.state === undefined) return { ok: false, error: 'no state' };
  const state = schema.safeParse(envelope.data.state);
  if (!state.success) return { ok: false, error: z.prettifyError(state.error) };
  return { ok: true, entry: { state: state.data, timers: envelope.data.timers } };
}

export function encodeEntry<T>(entry: Entry<T> | null): Buffer | null {
  return entry === null ? null : Buffer.from(JSON.stringify(entry));
}

/**
 * The key's entry after an outcome: `state` undefined keeps the state, null forgets the key
 * (and its timers); `timers` sets (a due time) or cancels (null) by name; `fired` is the timer
 * that caused this outcome, gone unless the outcome set it again.
 * @throws TypeError when timers are set on a key that has no state.
 */
export function nextEntry<T>(
  current: Entry<T> | undefined,
  outcome: { state?: T | null; timers?: Record<string, number | null> },
  fired?: string,
): Entry<T> | null | undefined {
  if (outcome.state === null) return null;
  const timers: Timers = { ...(current?.timers ?? {}) };
  if (fired !== undefined) delete timers[fired];
  for (const [name, due] of Object.entries(outcome.timers ?? {})) {
    if (due === null) delete timers[name];
    else timers[name] = Math.max(0, Math.round(due));
  }
  const state = outcome.state === undefined ? current?.state : outcome.state;
  if (state === undefined) {
    if (Object.keys(timers).length > 0) {
      throw new TypeError('[changegate/stateful] timers need a state to belong to');
    }
    return current === undefined ? undefined : null;
  }
  return { state, timers };
}

/** Did the entry change, so that it must be written? */
export function entryChanged<T>(before: Entry<T> | undefined, after: Entry<T> | null | undefined) {
  if (after === undefined) return false;
  if (after === null) return before !== undefined;
  return before === undefined || JSON.stringify(before) !== JSON.stringify(after);
}
