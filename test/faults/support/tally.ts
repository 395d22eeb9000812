import { createKafkaBus } from '../../../src/bus/kafka.js';
import type { RequestLogEntry, SnRecord } from '../../../src/sandbox/servicenow/index.js';
import type { GateDeployment } from '../../e2e/support/deployments.js';
import type { Verdict } from './approver.js';
import type { FaultStack } from './fault-stack.js';

/**
 * The counts at the end of a run, each from the system of record rather than from changegate's
 * own word: events from the Kafka topics, CRs and incidents from the sandbox's tables, callbacks
 * from what the CI emulator received.
 *
 * @module
 */

export interface Tally {
  deliveries: {
    acknowledged: number;
    /** Acknowledged delivery ids with no event of that id on Kafka. */
    lost: string[];
    /** Event ids found more than once on the topics (consumers must absorb them). */
    duplicateEvents: number;
    eventsRead: number;
  };
  crs: {
    gates: number;
    total: number;
    /** Gates whose deployment has no CR. */
    missing: string[];
    /** Correlation ids carried by more than one CR. */
    duplicated: string[];
  };
  callbacks: {
    gates: number;
    /** Gates with exactly one deciding call (released or rejected). */
    exactlyOnce: number;
    none: string[];
    multiple: string[];
    /** Released a rejected CR or the reverse. */
    wrongOutcome: string[];
    /** Repeats the CI side answered "already decided" (harmless by contract, still counted). */
    redundant: number;
  };
  incidents: {
    fingerprints: number;
    missing: string[];
    duplicated: string[];
    /** Fingerprints whose failure count differs from the failures sent. */
    miscounted: string[];
  };
  dlq: number;
  /** For each gate without a decision: its CR as ServiceNow has it and the gate worker's state. */
  undecided: string[];
  servicenow: { calls: number; faults: Map<string, number> };
}

const HEADER_ID = 'ce_id';

async function readIds(brokers: string[], topics: string[]) {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-faults-tally' });
  const seen = new Map<string, number>();
  let records = 0;
  try {
    for (const topic of topics) {
      await bus.readToEnd(topic, (r) => {
        records += 1;
        const id = r.headers[HEADER_ID];
        if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
      });
    }
  } finally {
    await bus.close();
  }
  return { seen, records };
}

/** The last value per key of a compacted topic. */
async function lastValues(brokers: string[], topic: string): Promise<Map<string, string>> {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-faults-tally' });
  const values = new Map<string, string>();
  try {
    await bus.readToEnd(topic, (r) => {
      if (r.key) values.set(r.key, r.value?.toString('utf8') ?? 'tombstone');
    });
  } finally {
    await bus.close();
  }
  return values;
}

async function countRecords(brokers: string[], topic: string): Promise<number> {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-faults-tally' });
  let n = 0;
  try {
    await bus.readToEnd(topic, () => void (n += 1));
  } finally {
    await bus.close();
  }
  return n;
}

async function adminGet<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`[faults] GET ${url} answered ${res.status}`);
  return ((await res.json()) as { result: T }).result;
}

const groupBy = (records: SnRecord[], field: string) => {
  const groups = new Map<string, SnRecord[]>();
  for (const r of records) {
    const key = r[field] ?? '';
    if (key) groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
};

/** Count everything; `expectedFailures` maps fingerprint → failure deliveries sent. */
export async function tally(
  stack: FaultStack,
  {
    acknowledged,
    gates,
    verdicts,
    expectedFailures,
    countField = 'u_changegate_failures',
  }: {
    acknowledged: Set<string>;
    gates: GateDeployment[];
    verdicts: Map<string, Verdict>;
    expectedFailures: Map<string, number>;
    countField?: string;
  },
): Promise<Tally> {
  const brokers = [stack.broker.brokers];
  const t = stack.topics;
  const { seen, records } = await readIds(brokers, [t.cicd!, t.changes!, t.servicenow!]);
  const lost = [...acknowledged].filter((id) => !seen.has(id));
  const duplicateEvents = [...seen.values()].filter((n) => n > 1).length;

  const changes = await stack.sn.changes();
  const byCorrelation = groupBy(changes, 'correlation_id');
  const crsOf = (g: GateDeployment) =>
    [...byCorrelation.entries()].filter(([id]) => id.endsWith(g.correlationSuffix));

  const received = await stack.ci.received();
  const callbacks: Tally['callbacks'] = {
    gates: gates.length,
    exactlyOnce: 0,
    none: [],
    multiple: [],
    wrongOutcome: [],
    redundant: 0,
  };
  for (const g of gates) {
    const calls = received.filter((c) => c.provider === g.provider && c.path.includes(g.pathKey));
    const deciding = calls.filter((c) => c.effect === 'released' || c.effect === 'rejected');
    callbacks.redundant += calls.filter(
      (c) => c.effect === 'duplicate' || c.effect === 'not-pending',
    ).length;
    const label = `${g.provider}${g.correlationSuffix}`;
    if (deciding.length === 0) callbacks.none.push(label);
    else if (deciding.length > 1) callbacks.multiple.push(label);
    else callbacks.exactlyOnce += 1;
    const expected = verdicts.get(g.correlationSuffix) === 'reject' ? 'rejected' : 'released';
    if (deciding.some((c) => c.effect !== expected)) callbacks.wrongOutcome.push(label);
  }

  const incidents = await adminGet<SnRecord[]>(`${stack.sn.url}/sandbox/admin/records/incident`);
  const byFingerprint = groupBy(incidents, 'correlation_id');
  const incidentTally: Tally['incidents'] = {
    fingerprints: expectedFailures.size,
    missing: [],
    duplicated: [],
    miscounted: [],
  };
  for (const [fingerprint, sent] of expectedFailures) {
    const filed = byFingerprint.get(fingerprint) ?? [];
    if (filed.length === 0) incidentTally.missing.push(fingerprint);
    if (filed.length > 1) incidentTally.duplicated.push(`${fingerprint} ×${filed.length}`);
    const count = Number(filed[0]?.[countField] ?? 0);
    if (filed.length === 1 && count !== sent)
      incidentTally.miscounted.push(`${fingerprint}: ${count} of ${sent}`);
  }

  // API calls only: the share is of the calls the faults apply to (not OAuth token requests).
  const requests = (
    await adminGet<RequestLogEntry[]>(`${stack.sn.url}/sandbox/admin/requests`)
  ).filter((r) => r.path.startsWith('/api/'));
  const faults = new Map<string, number>();
  for (const r of requests) if (r.fault) faults.set(r.fault, (faults.get(r.fault) ?? 0) + 1);

  const gateStates =
    callbacks.none.length > 0 ? await lastValues(brokers, t.gateState!) : new Map();
  const undecided = gates
    .filter((g) => callbacks.none.includes(`${g.provider}${g.correlationSuffix}`))
    .map((g) => {
      const crs = crsOf(g).flatMap(([, v]) => v);
      const cr = crs.map(
        (r) => `${r.number} state=${r.state} approval=${r.approval} mod=${r.sys_mod_count}`,
      );
      const state = crs.map((r) => gateStates.get(r.number ?? '') ?? 'no gate state').join(' | ');
      return `${g.provider}${g.correlationSuffix}: verdict=${verdicts.get(g.correlationSuffix) ?? 'none'}; ${cr.join(', ') || 'no CR'}; gate state: ${state}`;
    });

  return {
    undecided,
    deliveries: { acknowledged: acknowledged.size, lost, duplicateEvents, eventsRead: records },
    crs: {
      gates: gates.length,
      total: changes.length,
      missing: gates.filter((g) => crsOf(g).length === 0).map((g) => g.correlationSuffix),
      duplicated: [...byCorrelation.entries()].filter(([, v]) => v.length > 1).map(([k]) => k),
    },
    callbacks,
    incidents: incidentTally,
    dlq: await countRecords(brokers, t.dlq!),
    servicenow: { calls: requests.length, faults },
  };
}
