import { PROVIDERS } from '../providers/index.js';
import type { Receiver } from './types.js';

export interface ReceiverEntry {
  receiver: Receiver<never>;
  /** Answer within this many ms at most, whatever the publish timeout (the sender's own limit). */
  ackWithinMs?: number;
}

/**
 * Every `/hooks/<name>` route, one per provider in `src/providers/index.ts`. `generic` is
 * mounted as `/hooks/generic/:source`.
 */
export const RECEIVERS: Record<string, ReceiverEntry> = Object.fromEntries(
  PROVIDERS.map((p) => [
    p.name,
    {
      receiver: p.receiver,
      ...(p.ackWithinMs !== undefined ? { ackWithinMs: p.ackWithinMs } : {}),
    },
  ]),
);
