/**
 * The "async business rules" of the changegate install kit (deploy/servicenow/README.md step 4,
 * business-rules/*.js, sign.js): after an insert/update of a change_request or incident whose
 * `correlation_id` is set, and only when the rule's condition holds (insert, or state /
 * approval / start_date / end_date changed for a change; insert, state or priority changed for
 * an incident), POST a Standard-Webhooks-signed message with the kit's listed fields, `null`
 * for an empty value (GlideRecord.getValue()).
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

/** sign.js KNOWN_FIELDS: every message carries them after `table` and `sys_id`. */
export const KNOWN_FIELDS = [
  'number',
  'state',
  'approval',
  'correlation_id',
  'start_date',
  'end_date',
  'sys_updated_on',
  'sys_mod_count',
] as const;

/** sign.js DEFAULT_EXTRA_FIELDS (the property changegate.fields.<table> unset). */
export const DEFAULT_EXTRA_FIELDS: Readonly<Record<string, readonly string[]>> = {
  change_request: ['type', 'risk', 'impact', 'assignment_group', 'cmdb_ci', 'close_code'],
  incident: ['priority', 'impact', 'urgency', 'assignment_group', 'cmdb_ci', 'close_code'],
};

/** The fields whose change fires the rule (README step 4, Condition column). */
export const TRIGGER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  change_request: ['state', 'approval', 'start_date', 'end_date', 'correlation_id'],
  incident: ['state', 'priority'],
};

/** Whether a table has the outbound business rule. */
export function hasBusinessRule(table: string): boolean {
  return table in EVENT_TYPE;
}

/**
 * The rule's condition: `!current.correlation_id.nil() && (current.operation() == 'insert' ||
 * current.<trigger>.changes() || …)`. `previous` is undefined for an insert.
 */
export function ruleFires(
  table: string,
  record: SnRecord,
  previous: SnRecord | undefined,
  triggers: readonly string[] = TRIGGER_FIELDS[table] ?? [],
): boolean {
  if (!hasBusinessRule(table) || !(record.correlation_id ?? '')) return false;
  if (!previous) return true;
  return triggers.some((f) => (record[f] ?? '') !== (previous[f] ?? ''));
}

/**
 * The exact body sign.js builds: `{type, timestamp, data}` with `data.table`, `data.sys_id`,
 * the known fields, then the extra fields; empty values are `null`. Serialized once, signed as is.
 */
export function outboundBody(
  table: string,
  record: SnRecord,
  now: Date,
  extraFields: readonly string[] = DEFAULT_EXTRA_FIELDS[table] ?? [],
): string {
  const data: Record<string, string | null> = { table, sys_id: record.sys_id ?? '' };
  for (const name of [...KNOWN_FIELDS, ...extraFields]) {
    const key = name.trim();
    if (!key || key in data) continue;
    const value = record[key];
    data[key] = value === undefined || value === '' ? null : value;
  }
  return JSON.stringify({
    type: EVENT_TYPE[table] ?? 'record.updated',
    timestamp: now.toISOString(),
    data,
  });
}

/** What an instance's properties and rule conditions add to the kit's defaults. */
export interface RuleConfig {
  /** `changegate.fields.<table>`: extra fields sent (replaces the default list). */
  fields?: Record<string, string[]>;
  /** Extra `|| current.<field>.changes()` terms in the rule condition. */
  triggers?: Record<string, string[]>;
}

export interface DispatcherOptions {
  clock: () => Date;
  faults: Faults;
  jitterMs?: number;
  timeoutMs?: number;
  rules?: RuleConfig;
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

  /** Queue the messages for one committed write when the rule fires; jitter delays each. */
  schedule(table: string, record: SnRecord, previous?: SnRecord): void {
    const triggers = [
      ...(TRIGGER_FIELDS[table] ?? []),
      ...(this.opts.rules?.triggers?.[table] ?? []),
    ];
    if (!ruleFires(table, record, previous, triggers)) return;
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
    const body = outboundBody(
      table,
      record,
      now,
      this.opts.rules?.fields?.[table] ?? DEFAULT_EXTRA_FIELDS[table] ?? [],
    );
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
