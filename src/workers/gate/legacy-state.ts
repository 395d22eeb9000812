import type { Bus, BusRecord } from '../../bus/port.js';
import { coerceError } from '../../errors.js';
import { nextWake, openGates } from '../../gate/machine.js';
import { CrStateSchema, type CrState } from '../../gate/state.js';
import type { Logger } from '../../log.js';
import { encodeEntry } from '../stateful/changelog.js';

/**
 * The upgrade from the gate worker before the state kit: it kept CR states, as bare JSON, in
 * `changegate.gate-state`, created with one partition, which the kit cannot use as a changelog
 * (the changelog must have the changes topic's partition count). The worker now writes
 * `changegate.gate-changelog`; at start, the open gates of the old topic that the new changelog
 * does not know yet are carried over, each to the partition its CR's key hashes to — the
 * partition of its records on `changegate.changes` (both topics have the same partition count
 * and the bus one key partitioner), so the replica that owns the CR restores it.
 *
 * Idempotent: a CR the changelog holds (or has forgotten) is left alone, so replicas starting
 * together, or a restart, copy nothing twice.
 *
 * @module
 */

export const LEGACY_GATE_STATE_TOPIC = 'changegate.gate-state';
/** The default of `kafka.topics.gateState` since the state kit. */
export const GATE_CHANGELOG_TOPIC = 'changegate.gate-changelog';

export async function migrateLegacyGateState(options: {
  bus: Bus;
  from: string;
  to: string;
  log: Logger;
  clock?: () => number;
}): Promise<number> {
  const { bus, from, to, log, clock = Date.now } = options;
  if (from === to) return 0;
  const legacy = new Map<string, CrState>();
  try {
    await bus.readToEnd(from, (record) => {
      if (!record.key) return;
      if (record.value === null) {
        legacy.delete(record.key);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(record.value.toString('utf8'));
      } catch {
        return;
      }
      const parsed = CrStateSchema.safeParse(json);
      if (parsed.success) legacy.set(record.key, parsed.data);
    });
  } catch (err) {
    // No old topic (a new installation): nothing to carry over.
    log.debug({ topic: from, err: coerceError(err).message }, 'no legacy gate state to migrate');
    return 0;
  }
  const open = [...legacy].filter(([, state]) => openGates(state).length > 0);
  if (open.length === 0) return 0;
  const known = new Set<string>();
  await bus.readToEnd(to, (record) => {
    if (record.key) known.add(record.key);
  });
  const records: BusRecord[] = open
    .filter(([key]) => !known.has(key))
    .map(([key, state]) => ({
      topic: to,
      key,
      value: encodeEntry({
        // A move to Implement or an approvers read asked for before the upgrade may never have
        // been answered: the first evaluation asks again.
        state: { ...state, advanceRequested: false, approversRequested: false },
        timers: { wake: nextWake(state) ?? clock() },
      }),
      headers: { 'content-type': 'application/json' },
    }));
  if (records.length > 0) await bus.publish(records);
  log.info({ from, to, migrated: records.length }, 'open gates carried over to the gate changelog');
  return records.length;
}
