import { fromRecord } from '../../bus/cloudevents.js';
import type { CloudEvent } from '../../events/envelope.js';
import type { EventRouter } from '../runtime/index.js';
import type { Outcome, StatefulProcessorOptions, TaskContext } from './processor.js';

/**
 * CloudEvents handled per type on the state kit: a router's handlers get the key and its state
 * beside the task context, and return the key's outcome; a type no handler takes changes
 * nothing (and is counted as skipped).
 *
 * @module
 */

export interface KeyedContext<T> extends TaskContext<T> {
  readonly key: string;
  /** The key's state before this event; undefined for a key not seen yet. */
  readonly state: T | undefined;
}

export type StatefulRouter<T> = EventRouter<KeyedContext<T>, Outcome<T>>;

/** The processor's `decode` and `handle` for a router of CloudEvents. */
export function routeEvents<T>(router: StatefulRouter<T>): Pick<
  StatefulProcessorOptions<never, CloudEvent>,
  'decode'
> & {
  handle: (
    key: string,
    state: T | undefined,
    event: CloudEvent,
    ctx: TaskContext<T>,
  ) => Promise<Outcome<T> | undefined>;
} {
  return {
    decode: fromRecord,
    // A type no handler takes is undefined: the kit counts it as skipped and changes nothing.
    handle: async (key, state, event, ctx) => router.route(event, { ...ctx, key, state }),
  };
}
