/**
 * The "async business rule" of the changegate install kit: after an insert/update of a
 * change_request or incident it POSTs a Standard-Webhooks-signed message to every target.
 *
 * Like `RESTMessageV2.executeAsync()` it runs after the transaction answered, does not retry,
 * and times out after 10 s (`setHttpTimeout(10000)`). An optional jitter delays each message
 * independently so tests can see out-of-order delivery.
 *
 * @module
 */
import { sign } from '../../security/standard-webhooks.js';
import type { Faults } from './faults.js';
import type { OutboundRecord, OutboundTarget, SnRecord } from './types.js';
import { newGuid } from './util.js';

const EVENT_TYPE: Readonly<Record<string, string>> = {
  change_request: 'change.updated',
  incident: 'incident.updated',
};

const LEADING_KEYS = [
  'sys_id',
  'number',
  'state',
  'approval',
  'correlation_id',
  'start_date',
  'end_date',
  'sys_updated_on',
] as const;

/** Whether a table has the outbound business rule. */
export function hasBusinessRule(table: string): boolean {
  return table in EVENT_TYPE;
}

/**
 * The exact body the business rule sends: `{type, timestamp, data}` with `data.table` first, the
 * well-known keys next, then every other string field. Serialized once, signed as is.
 */
export function outboundBody(table: string, record: SnRecord, now: Date): string {
  const data: Record<string, string> = { table };
  for (const key of LEADING_KEYS) data[key] = record[key] ?? '';
  for (const [key, value] of Object.entries(record)) {
    if (!(key in data) && typeof value === 'string') data[key] = value;
  }
  return JSON.stringify({
    type: EVENT_TYPE[table] ?? `${table}.updated`,
    timestamp: now.toISOString(),
    data,
  });
}

export interface DispatcherOptions {
  clock: () => Date;
  faults: Faults;
  jitterMs?: number;
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

export class OutboundDispatcher {
  targets: OutboundTarget[];
  private readonly sentLog: OutboundRecord[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    targets: OutboundTarget[],
    private readonly opts: DispatcherOptions,
  ) {
    this.targets = [...targets];
  }

  sent(): OutboundRecord[] {
    return this.sentLog.map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  /** Queue the messages for one committed write; they go out after `delayMs` (+ jitter). */
  schedule(table: string, record: SnRecord): void {
    if (!hasBusinessRule(table)) return;
    for (const target of this.targets) {
      const jitter = this.opts.jitterMs ? Math.floor(Math.random() * this.opts.jitterMs) : 0;
      const task = new Promise<void>((resolve) => {
        setTimeout(() => {
          this.deliver(target, table, record).then(resolve, (err: unknown) => {
            this.opts.onError?.(err);
            resolve();
          });
        }, jitter);
      });
      this.inflight.add(task);
      void task.finally(() => this.inflight.delete(task));
    }
  }

  /** Resolves when every queued message was delivered, failed or dropped. */
  async idle(): Promise<void> {
    // Writes made outside a request schedule their message with setImmediate: let it start.
    await new Promise((r) => setImmediate(r));
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private async deliver(target: OutboundTarget, table: string, record: SnRecord): Promise<void> {
    const now = this.opts.clock();
    const id = newGuid();
    const body = outboundBody(table, record, now);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...sign(target.secret, id, now, body),
    };
    const entry: OutboundRecord = {
      id,
      url: target.url,
      table,
      sysId: record.sys_id ?? '',
      type: EVENT_TYPE[table] ?? '',
      headers,
      body,
      at: now.toISOString(),
      dropped: false,
    };
    this.sentLog.push(entry);
    if (this.opts.faults.take('POST', target.url, true)) {
      entry.dropped = true;
      return;
    }
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      entry.status = res.status;
      await res.arrayBuffer();
    } catch (err) {
      entry.error = err instanceof Error ? err.message : String(err);
    }
  }
}
