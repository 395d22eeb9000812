import type { Bus } from '../bus/port.js';
import type { GithubAppHooks, HookDeliveryItem } from '../providers/github/app-hooks.js';

/**
 * `changegate recover github`: GitHub does not redeliver failed deliveries ("Handling failed
 * webhook deliveries", github/docs content/webhooks/using-webhooks/handling-failed-webhook-deliveries.md),
 * so this asks it to. It follows GitHub's own script for a GitHub App
 * (…/automatically-redelivering-failed-deliveries-for-a-github-app-webhook.md): list the App's
 * deliveries since the last recovered point, group them by `guid` (constant across
 * redeliveries), and redeliver one delivery of every guid none of whose deliveries has status
 * `OK`. The point is kept in a compacted topic, keyed by source. Run on demand (or at start by
 * an operator's choice); nothing here runs on a timer.
 *
 * @module
 */

const SOURCE = 'github';
/** Without a stored point or `--since`: the last 24 h, as GitHub's script does. */
const DEFAULT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Where recovery remembers how far it got, per source. */
export interface RecoveryPoints {
  read(source: string): Promise<number | undefined>;
  write(source: string, point: number): Promise<void>;
}

/** The point as the compacted topic stores it (value of key `<source>`). */
interface PointRecord {
  source: string;
  /** Deliveries from here on (GitHub's `delivered_at`) are examined by the next run. */
  from: string;
  recoveredAt: string;
}

/** Recovery points on a compacted topic: the last record of a key is its point. */
export function busRecoveryPoints(bus: Bus, topic: string, now = Date.now): RecoveryPoints {
  return {
    async read(source) {
      let point: number | undefined;
      await bus.readToEnd(topic, (r) => {
        if (r.key !== source) return;
        if (!r.value) {
          point = undefined;
          return;
        }
        const from = Date.parse((JSON.parse(r.value.toString('utf8')) as PointRecord).from);
        point = Number.isFinite(from) ? from : point;
      });
      return point;
    },
    async write(source, point) {
      const value: PointRecord = {
        source,
        from: new Date(point).toISOString(),
        recoveredAt: new Date(now()).toISOString(),
      };
      await bus.publish([
        {
          topic,
          key: source,
          value: Buffer.from(JSON.stringify(value)),
          headers: { 'content-type': 'application/json' },
        },
      ]);
    },
  };
}

/**
 * The deliveries to ask for again: per guid, none `OK`; the newest of them (the list is newest
 * first), so a delivery that failed several times is redelivered once.
 */
export function toRedeliver(deliveries: readonly HookDeliveryItem[]): HookDeliveryItem[] {
  const byGuid = new Map<string, HookDeliveryItem[]>();
  for (const d of deliveries) byGuid.set(d.guid, [...(byGuid.get(d.guid) ?? []), d]);
  return [...byGuid.values()]
    .filter((all) => !all.some((d) => d.status === 'OK'))
    .map((all) => all[0]!);
}

export interface RecoverySummary {
  source: typeof SOURCE;
  from: string;
  examined: number;
  redelivered: { id: number; guid: string; event: string; status: string }[];
  /** Where the next run starts; unchanged in a dry run. */
  next: string;
  dryRun: boolean;
}

export interface RecoverGithubOptions {
  hooks: GithubAppHooks;
  points: RecoveryPoints;
  /** Overrides the stored point. */
  sinceMs?: number | undefined;
  dryRun?: boolean;
  now?: () => number;
}

/**
 * One recovery run. The point moves to the newest `delivered_at` examined, inclusive next time:
 * deliveries of that same second are looked at again, which the guid grouping makes harmless,
 * and nothing between two runs is skipped whatever the two clocks say.
 * @throws UpstreamError from GitHub; the point then stays where it was.
 */
export async function recoverGithub({
  hooks,
  points,
  sinceMs,
  dryRun = false,
  now = Date.now,
}: RecoverGithubOptions): Promise<RecoverySummary> {
  const from = sinceMs ?? (await points.read(SOURCE)) ?? now() - DEFAULT_WINDOW_MS;
  const deliveries = await hooks.deliveriesFrom(from);
  const picks = toRedeliver(deliveries);
  if (!dryRun) for (const d of picks) await hooks.redeliver(d.id);
  const newest = deliveries.reduce((max, d) => Math.max(max, Date.parse(d.delivered_at)), from);
  if (!dryRun) await points.write(SOURCE, newest);
  return {
    source: SOURCE,
    from: new Date(from).toISOString(),
    examined: deliveries.length,
    redelivered: picks.map(({ id, guid, event, status }) => ({ id, guid, event, status })),
    next: new Date(dryRun ? from : newest).toISOString(),
    dryRun,
  };
}

/**
 * `--since`: an ISO time, or a duration back from now (`90m`, `6h`, `3d`).
 * @throws Error naming the accepted forms.
 */
export function parseSince(value: string, now = Date.now()): number {
  const d = /^(\d+)\s*(m|h|d)$/.exec(value.trim());
  if (d)
    return now - Number(d[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  if (Number.isFinite(t) && /^\d{4}-\d{2}-\d{2}/.test(value)) return t;
  throw new Error(
    `--since takes an ISO time (2026-12-01T08:00:00Z) or a duration (90m, 6h, 3d), not '${value}'`,
  );
}
