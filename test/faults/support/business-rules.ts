import { randomUUID } from 'node:crypto';
import type { OutboundRecord } from '../../../src/sandbox/servicenow/index.js';
import { sign } from '../../../src/security/standard-webhooks.js';
import type { SandboxAdminClient } from '../../support/process-stack/admin-clients.js';
import { STACK_SECRETS } from '../../support/process-stack/secrets.js';
import type { Sender } from './sender.js';

/**
 * The ServiceNow side of delivery: the sandbox's business rule fires each change message once
 * (no retry, like `executeAsync`), so this pump plays the outbound queue of a real install — a
 * message the receiver did not take (it was SIGKILLed, Kafka was down) is redelivered under the
 * same `webhook-id` until accepted. It also adds the disorder of real life: a share of delivered
 * messages is redelivered again (a duplicate), and an older snapshot of a CR is sent again under
 * a new id after a newer one (out of order).
 *
 * @module
 */

export interface BusinessRuleStats {
  /** Messages the sandbox sent. */
  fired: number;
  /** Of those, not taken on the first try (connection refused, 5xx): redelivered until taken. */
  redelivered: number;
  /** Delivered ones sent again under the same id (expected 200). */
  duplicates: number;
  /** Older snapshots sent after newer ones under a new id. */
  stale: number;
}

export interface BusinessRulePump {
  stats: BusinessRuleStats;
  /** Messages fired but not yet accepted (in flight at the sandbox or being redelivered). */
  pending(): number;
  /** Stop polling and wait for redeliveries in progress. */
  stop(): Promise<void>;
}

const isTaken = (m: OutboundRecord) => m.status !== undefined && m.status >= 200 && m.status < 300;
const isSettled = (m: OutboundRecord) =>
  m.status !== undefined || m.dropped || m.error !== undefined;

/** @example const pump = startBusinessRulePump({ sn, receiverUrl, sender }); … await pump.stop() */
export function startBusinessRulePump({
  sn,
  receiverUrl,
  sender,
  duplicateShare = 0.1,
  staleShare = 0.1,
  everyMs = 1000,
}: {
  sn: SandboxAdminClient;
  receiverUrl: string;
  sender: Sender;
  duplicateShare?: number;
  staleShare?: number;
  everyMs?: number;
}): BusinessRulePump {
  const stats: BusinessRuleStats = { fired: 0, redelivered: 0, duplicates: 0, stale: 0 };
  const handled = new Set<string>();
  const unsettled = new Set<string>();
  const work = new Set<Promise<unknown>>();
  /** Delivered messages per record, oldest first: the source of stale replays. */
  const history = new Map<string, OutboundRecord[]>();
  let stopped = false;

  const deliver = (m: OutboundRecord, id: string) =>
    sender.send(`${receiverUrl}/hooks/servicenow`, () => ({
      // A retry is signed anew (fresh timestamp) under the same id, as Standard Webhooks says.
      headers: new Headers({ ...m.headers, ...sign(STACK_SECRETS.whsec, id, new Date(), m.body) }),
      body: new TextEncoder().encode(m.body),
      params: {},
    }));
  const track = (p: Promise<unknown>) => {
    work.add(p);
    void p.finally(() => work.delete(p));
  };

  const round = async () => {
    const messages = await sn.outbound();
    unsettled.clear();
    for (const m of messages) {
      if (handled.has(m.id)) continue;
      if (!isSettled(m)) {
        unsettled.add(m.id);
        continue;
      }
      handled.add(m.id);
      stats.fired += 1;
      const older = history.get(m.sysId) ?? [];
      history.set(m.sysId, [...older, m]);
      // The receiver acknowledged it to the sandbox: it counts toward "lost" like any delivery.
      if (isTaken(m)) sender.acknowledged.add(m.id);
      else {
        stats.redelivered += 1;
        track(deliver(m, m.id));
        continue;
      }
      if (Math.random() < duplicateShare) {
        stats.duplicates += 1;
        track(deliver(m, m.id));
      }
      const stale = older[Math.floor(Math.random() * older.length)];
      if (stale && Math.random() < staleShare) {
        stats.stale += 1;
        track(deliver(stale, `msg_${randomUUID()}`));
      }
    }
  };

  const loop = (async () => {
    while (!stopped) {
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    await round().catch(() => undefined);
  })();

  return {
    stats,
    pending: () => unsettled.size + work.size,
    async stop() {
      stopped = true;
      await loop;
      while (work.size > 0) await Promise.all([...work]);
    },
  };
}
