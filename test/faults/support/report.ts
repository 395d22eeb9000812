import type { RunReport } from './run.js';

/**
 * The printed result of a fault run: what was sent, what was injected, what came out, how long
 * it took. One table, plain text, so CI logs keep it readable.
 *
 * @module
 */

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Rows of `[label, value, verdict]`; verdict is '' for figures that are not pass/fail. */
export function reportRows(r: RunReport, setupMs: number): [string, string, string][] {
  const t = r.tally;
  const ok = (good: boolean) => (good ? 'ok' : 'FAIL');
  const kinds = [...r.deliveries.byKind].map(([k, n]) => `${k} ${n}`).join(', ');
  const statuses = [...r.sender.statuses]
    .sort(([a], [b]) => a - b)
    .map(([code, n]) => `${code === 0 ? 'no answer' : code} ×${n}`)
    .join(', ');
  const byFault = (kind: string) => r.faults.filter((f) => f.kind === kind);
  const downtime = (kind: string) => {
    const events = byFault(kind);
    if (events.length === 0) return '0';
    const mean = events.reduce((sum, e) => sum + e.downMs, 0) / events.length;
    return `${events.length} (mean back in ${s(mean)})`;
  };
  const inFlight = byFault('receiver-kill9').map((e) => e.inFlight ?? 0);
  const snFaults = [...t.servicenow.faults].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const snFaulted = [...t.servicenow.faults.values()].reduce((a, b) => a + b, 0);
  return [
    ['deliveries planned', `${r.deliveries.planned} (${kinds})`, ''],
    ['duplicate deliveries sent', String(r.deliveries.duplicatesSent), ''],
    [
      'business-rule messages',
      `${r.businessRules.fired} fired, ${r.businessRules.redelivered} redelivered after a failure, ${r.businessRules.duplicates} duplicated, ${r.businessRules.stale} stale out of order`,
      '',
    ],
    ['receiver answers', statuses, ''],
    [
      'sender retries / gave up',
      `${r.sender.retries} / ${r.sender.gaveUp}`,
      ok(r.sender.gaveUp === 0),
    ],
    [
      'fault: receiver kill -9',
      `${downtime('receiver-kill9')}; requests in flight ${inFlight.join(', ') || '-'}`,
      '',
    ],
    ['fault: worker kill -9', downtime('worker-kill9'), ''],
    ['fault: Kafka stop', downtime('kafka-stop'), ''],
    ['fault: Kafka kill -9', downtime('kafka-kill9'), ''],
    ['fault: ServiceNow', `${snFaulted} of ${t.servicenow.calls} calls (${snFaults})`, ''],
    ['deliveries acknowledged', String(t.deliveries.acknowledged), ''],
    [
      'events read back from Kafka',
      `${t.deliveries.eventsRead} (${t.deliveries.duplicateEvents} ids twice)`,
      '',
    ],
    [
      'LOST (acknowledged, not on Kafka)',
      String(t.deliveries.lost.length),
      ok(t.deliveries.lost.length === 0),
    ],
    ['CRs created', `${t.crs.total} for ${t.crs.gates} gates`, ''],
    ['gates without a CR', String(t.crs.missing.length), ok(t.crs.missing.length === 0)],
    [
      'DUPLICATE CRs (per correlation id)',
      String(t.crs.duplicated.length),
      ok(t.crs.duplicated.length === 0),
    ],
    [
      'gates decided exactly once',
      `${t.callbacks.exactlyOnce} of ${t.callbacks.gates}`,
      ok(t.callbacks.exactlyOnce === t.callbacks.gates),
    ],
    ['gates never called back', String(t.callbacks.none.length), ok(t.callbacks.none.length === 0)],
    [
      'gates called back twice or more',
      String(t.callbacks.multiple.length),
      ok(t.callbacks.multiple.length === 0),
    ],
    [
      'gates with the wrong outcome',
      String(t.callbacks.wrongOutcome.length),
      ok(t.callbacks.wrongOutcome.length === 0),
    ],
    ['repeat calls answered "already decided"', String(t.callbacks.redundant), ''],
    [
      'incidents per fingerprint',
      `${t.incidents.fingerprints - t.incidents.missing.length - t.incidents.duplicated.length} of ${t.incidents.fingerprints} exactly one`,
      ok(t.incidents.missing.length + t.incidents.duplicated.length === 0),
    ],
    [
      'DUPLICATE incidents',
      String(t.incidents.duplicated.length),
      ok(t.incidents.duplicated.length === 0),
    ],
    [
      'failure counts off',
      String(t.incidents.miscounted.length),
      ok(t.incidents.miscounted.length === 0),
    ],
    ['dead-lettered', String(t.dlq), ''],
    ['unsettled at the end', r.unsettled.join('; ') || 'nothing', ok(r.unsettled.length === 0)],
    [
      'durations',
      `setup ${s(setupMs)}, drive ${s(r.durations.driveMs)}, settle ${s(r.durations.settleMs)}, count ${s(r.durations.tallyMs)}`,
      '',
    ],
  ];
}

/** The table as text. */
export function formatReport(r: RunReport, setupMs: number): string {
  const rows = reportRows(r, setupMs);
  const w0 = Math.max(...rows.map(([a]) => a.length));
  const w1 = Math.min(90, Math.max(...rows.map(([, b]) => b.length)));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+------+`;
  const body = rows.map(([a, b, c]) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(4)} |`);
  const undecided = r.tally.undecided.map((u) => `[faults] undecided gate: ${u}`);
  return ['[faults] result', line, ...body, line, ...undecided].join('\n');
}
