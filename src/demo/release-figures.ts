/**
 * The figures release managers track, read back from changegate's own `/metrics` (Prometheus
 * text format) rather than from what the demo measured: what you see here is what a dashboard
 * would show.
 *
 * @module
 */

export interface ReleaseFigures {
  /** Mean time to create a CR in ServiceNow, ms; undefined when none was created. */
  changeCreationMs: number | undefined;
  changesCreated: number;
  /** Mean time from the ServiceNow update that allowed a release to the CI system's answer, ms. */
  gateReleaseLatencyMs: number | undefined;
  gatesReleased: number;
  /** Closed CRs by close code. */
  closed: Record<string, number>;
  /** successful / all closed, 0..1; undefined when nothing was closed. */
  successRate: number | undefined;
  /** Webhook deliveries by source, then outcome (accepted, duplicate, rejected_*…). */
  deliveries: Record<string, Record<string, number>>;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parse the sample lines of a Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (!m || raw.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const sum = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).reduce((acc, s) => acc + s.value, 0);

const byLabel = (samples: Sample[], name: string, label: string) => {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name && x.value > 0)) {
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
};

const bySourceAndOutcome = (samples: Sample[]) => {
  const out: Record<string, Record<string, number>> = {};
  for (const s of samples.filter((x) => x.name === 'changegate_deliveries_total' && x.value > 0)) {
    const source = (out[s.labels.source ?? ''] ??= {});
    const outcome = s.labels.outcome ?? '';
    source[outcome] = (source[outcome] ?? 0) + s.value;
  }
  return out;
};

const meanMs = (samples: Sample[], histogram: string) => {
  const count = sum(samples, `${histogram}_count`);
  return count > 0 ? (sum(samples, `${histogram}_sum`) / count) * 1000 : undefined;
};

/**
 * @example releaseFigures(await (await fetch(`${url}/metrics`)).text()).successRate // 0.5
 */
export function releaseFigures(metricsText: string): ReleaseFigures {
  const samples = parseSamples(metricsText);
  const closed = byLabel(samples, 'changegate_changes_closed_total', 'close_code');
  const totalClosed = Object.values(closed).reduce((a, b) => a + b, 0);
  return {
    changeCreationMs: meanMs(samples, 'changegate_change_creation_seconds'),
    changesCreated: sum(samples, 'changegate_change_creation_seconds_count'),
    gateReleaseLatencyMs: meanMs(samples, 'changegate_gate_release_latency_seconds'),
    gatesReleased: sum(samples, 'changegate_gate_release_latency_seconds_count'),
    closed,
    successRate: totalClosed > 0 ? (closed.successful ?? 0) / totalClosed : undefined,
    deliveries: bySourceAndOutcome(samples),
  };
}
