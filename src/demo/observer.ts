import { fromRecord } from '../bus/cloudevents.js';
import type { Bus, Subscription } from '../bus/port.js';
import { DemoError } from './errors.js';

/** An event the demo saw on a topic, with when it saw it (`performance.now()`). */
export interface Observed {
  type: string;
  subject: string | undefined;
  data: Record<string, unknown>;
  at: number;
}

export interface Observer {
  /** Everything seen so far, in arrival order. */
  seen(): Observed[];
  /**
   * The first event (already seen or still to come) that matches; rejects with a DemoError
   * naming `what` after `timeoutMs`.
   */
  waitFor(
    what: string,
    predicate: (event: Observed) => boolean,
    timeoutMs: number,
  ): Promise<Observed>;
  close(): Promise<void>;
}

/**
 * Watch topics as one more consumer group, the way any subscriber of changegate's events would.
 * The demo learns outcomes here (CR created, gate released, CR closed) instead of sleeping and
 * hoping, so it does not depend on timing luck.
 */
export async function observe(bus: Bus, topics: string[], groupId: string): Promise<Observer> {
  const events: Observed[] = [];
  const waiters = new Set<{
    predicate: (e: Observed) => boolean;
    resolve: (e: Observed) => void;
  }>();
  const subscription: Subscription = await bus.subscribe({
    groupId,
    topics,
    fromBeginning: true,
    handler: (record) => {
      const event = fromRecord(record);
      const observed: Observed = {
        type: event.type,
        subject: event.subject,
        data: (event.data ?? {}) as Record<string, unknown>,
        at: performance.now(),
      };
      events.push(observed);
      for (const w of waiters) {
        if (w.predicate(observed)) {
          waiters.delete(w);
          w.resolve(observed);
        }
      }
      return Promise.resolve();
    },
  });
  return {
    seen: () => [...events],
    waitFor(what, predicate, timeoutMs) {
      const already = events.find(predicate);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (e: Observed) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new DemoError(`no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => subscription.close(),
  };
}
