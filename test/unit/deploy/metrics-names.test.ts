import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.js';
import { ROOT, yamlFile } from './deploy-files.js';

/** Series names a scrape really has: histograms add _bucket, _sum and _count. */
function exportedSeries(): Map<string, string[]> {
  const { registry } = createMetrics();
  const series = new Map<string, string[]>();
  for (const m of registry.getMetricsAsArray()) {
    const meta = m as unknown as { name: string; type: string; labelNames?: string[] };
    const labels = meta.labelNames ?? [];
    if (meta.type === 'histogram') {
      series.set(`${meta.name}_bucket`, [...labels, 'le']);
      series.set(`${meta.name}_sum`, labels);
      series.set(`${meta.name}_count`, labels);
    } else series.set(meta.name, labels);
  }
  return series;
}

/** Metrics from other exporters the rules may use, and where they come from. */
const EXTERNAL = new Map([
  ['kafka_consumergroup_lag', "Strimzi's Kafka Exporter (deploy/strimzi/kafka.yaml)"],
]);
/** Labels Prometheus adds at scrape time (and `exported_instance`, our `instance` renamed). */
const TARGET_LABELS = ['job', 'pod', 'namespace', 'exported_instance'];

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
}

/** Every `metric{…}` / bare `changegate_…` selector of a PromQL expression. */
function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const re = /\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}|\b(changegate_[a-zA-Z0-9_]+)\b/g;
  for (const m of expr.matchAll(re)) {
    if (m[3]) {
      out.push({ metric: m[3], matchers: [] });
      continue;
    }
    const matchers = [...m[2]!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({
      label: x[1]!,
      op: x[2]!,
      value: x[3]!,
    }));
    out.push({ metric: m[1]!, matchers });
  }
  return out;
}

/** The string literals of src/: a label value the service never sets is a typo in a rule. */
const sourceText = (function read(dir: string): string {
  return readdirSync(dir)
    .map((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? read(path) : readFileSync(path, 'utf8');
    })
    .join('\n');
})(join(ROOT, 'src'));

const alerts = yamlFile<{ groups: { name: string; rules: { alert: string; expr: string }[] }[] }>(
  'deploy/prometheus/alerts.yaml',
);
const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'deploy/grafana/changegate.json'), 'utf8'),
) as {
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
};
const queries: [string, string][] = [
  ...alerts.groups.flatMap((g) =>
    g.rules.map((r): [string, string] => [`alert ${r.alert}`, r.expr]),
  ),
  ...dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t): [string, string] => [`panel ${p.title}`, t.expr]),
  ),
  ...dashboard.templating.list
    .filter((v) => v.query && typeof v.query === 'object')
    .map((v): [string, string] => [`variable ${v.name}`, (v.query as { query: string }).query]),
];

describe('metric names in deploy/prometheus and deploy/grafana', () => {
  const series = exportedSeries();

  it('has the alerts the issue asks for', () => {
    const names = alerts.groups.flatMap((g) => g.rules.map((r) => r.alert));
    for (const expected of [
      'ChangegateServiceNowErrorRate',
      'ChangegateApprovalWaitOverOneHour',
      'ChangegateChangeRejected',
      'ChangegateChangeCreationFailing',
      'ChangegateConsumerLag',
      'ChangegateDeadLetterGrowth',
      'ChangegateSignatureFailureSpike',
    ])
      expect(names).toContain(expected);
  });

  it.each(queries)('%s names only metrics and labels the service exports', (_, expr) => {
    const found = selectors(expr);
    expect(found.length).toBeGreaterThan(0);
    for (const { metric, matchers } of found) {
      if (EXTERNAL.has(metric)) continue;
      expect([...series.keys()], `${metric} is not exported by src/metrics.ts`).toContain(metric);
      for (const { label, op, value } of matchers) {
        if (TARGET_LABELS.includes(label)) continue;
        expect(series.get(metric), `${metric} has no label ${label}`).toContain(label);
        if (op === '=' && label !== 'le')
          expect(sourceText, `${metric}{${label}="${value}"} is never set`).toContain(`'${value}'`);
      }
    }
  });

  it('refers to histogram buckets that exist (le="3600" of the gate wait)', () => {
    const { registry } = createMetrics({ defaults: false });
    const gateWait = registry.getSingleMetric('changegate_gate_wait_seconds') as unknown as {
      upperBounds: number[];
    };
    for (const [, expr] of queries)
      for (const m of expr.matchAll(/changegate_gate_wait_seconds_bucket\{[^}]*le="([^"]+)"/g))
        expect(gateWait.upperBounds).toContain(Number(m[1]));
  });
});
