import type { z } from 'zod';
import { PayloadError } from '../../errors.js';
import type { CloudEvent } from '../../events/envelope.js';
import { EVENT_TYPES, isEventType, type EventData, type EventType } from '../../events/types.js';

/**
 * Handlers registered per event type, each receiving the event with its data parsed by that
 * type's schema (`EVENT_TYPES`), so a handler is typed by the type it registered for and never
 * dispatches on strings or parses data itself:
 *
 *   eventRouter<HandlerContext>()
 *     .on('dev.changegate.deployment.requested', (event, ctx) => …) // event.data: DeploymentData
 *
 * @module
 */

/** A CloudEvent of `T` with its data parsed (distributes over a union of types). */
export type TypedEvent<T extends EventType> = T extends EventType
  ? CloudEvent<EventData<T>> & { type: T }
  : never;

export type EventHandler<T extends EventType, C, R> = (event: TypedEvent<T>, ctx: C) => Promise<R>;

export interface EventRouter<C, R = void> {
  /** Handle events of `type` (or of each of `types`) with `handler`; one handler per type. */
  on<T extends EventType>(
    type: T | readonly T[],
    handler: EventHandler<T, C, R>,
  ): EventRouter<C, R>;
  /** The types with a handler. */
  types(): EventType[];
  /**
   * Parse the event's data with its type's schema and run its handler; undefined when no
   * handler takes the type (the caller skips the event).
   * @throws PayloadError when the data does not match its type's schema (never retried)
   */
  route(event: CloudEvent, ctx: C): Promise<R> | undefined;
}

export interface EventRouterOptions {
  /**
   * `dead-letter` (default): data that does not match its schema is a PayloadError. `skip`: it
   * is passed over, for an observer whose events another worker owns (and dead-letters).
   */
  invalid?: 'dead-letter' | 'skip';
}

export function eventRouter<C, R = void>({
  invalid = 'dead-letter',
}: EventRouterOptions = {}): EventRouter<C, R> {
  const handlers = new Map<EventType, (event: CloudEvent, ctx: C) => Promise<R>>();
  const router: EventRouter<C, R> = {
    on(type, handler) {
      for (const t of typeof type === 'string' ? [type] : type) {
        if (handlers.has(t)) throw new Error(`[changegate/runtime] ${t} has a handler already`);
        handlers.set(t, handler as unknown as (event: CloudEvent, ctx: C) => Promise<R>);
      }
      return router;
    },
    types: () => [...handlers.keys()],
    route(event, ctx) {
      if (!isEventType(event.type)) return undefined;
      const handler = handlers.get(event.type);
      if (!handler) return undefined;
      const schema: z.ZodType = EVENT_TYPES[event.type].schema;
      const data = schema.safeParse(event.data);
      if (!data.success) {
        if (invalid === 'skip') return undefined;
        const first = data.error.issues[0];
        const where = first?.path.join('.') || '(root)';
        throw new PayloadError(
          'schema_mismatch',
          `[changegate/runtime] ${event.type} ${event.id}: ${where}: ${first?.message ?? 'invalid'}`,
          { cause: data.error },
        );
      }
      return handler({ ...event, data: data.data }, ctx);
    },
  };
  return router;
}
