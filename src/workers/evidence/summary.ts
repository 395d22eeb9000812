import { createHash } from 'node:crypto';
import type { TestReportedData } from '../../events/cicd.js';
import { formatBytes, type ReportFormat } from './content.js';
import type { JunitResult } from './junit.js';
import type { SarifResult } from './sarif.js';

/**
 * The one work note the evidence worker writes per test report event: counts, static analysis,
 * the top failures, and what was attached, cut or refused. It ends with a marker derived from
 * the event, which is how a redelivery finds it in the journal and writes nothing.
 *
 * @module
 */

export interface ReportOutcome {
  name: string;
  format: ReportFormat;
  contentType: string;
  status: 'attached' | 'already-attached' | 'refused' | 'unavailable';
  /** Attached size (after the cut). */
  bytes?: number;
  originalBytes?: number;
  truncated?: boolean;
  /** Why it was refused or unavailable. */
  reason?: string;
  junit?: JunitResult;
  sarif?: SarifResult;
}

/** Stable per event (source + id), and safe inside an encoded query (hex only). */
export function summaryMarker(eventSource: string, eventId: string): string {
  const digest = createHash('sha256').update(`${eventSource}\n${eventId}`).digest('hex');
  return `changegate-evidence-${digest.slice(0, 20)}`;
}

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  from: string;
}

/** The sender's summary wins; else the sum over the JUnit reports that list anything. */
export function testCounts(
  summary: TestReportedData['summary'],
  outcomes: readonly ReportOutcome[],
): TestCounts | undefined {
  if (summary) return { ...summary, from: 'the pipeline summary' };
  const parsed = outcomes.filter((o) => o.junit && o.junit.countedFrom !== 'nothing');
  if (parsed.length === 0) return undefined;
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const o of parsed) {
    sum.passed += o.junit!.passed;
    sum.failed += o.junit!.failed;
    sum.skipped += o.junit!.skipped;
  }
  return { ...sum, from: parsed.map((o) => o.name).join(', ') };
}

export interface SummaryInput {
  data: TestReportedData;
  outcomes: readonly ReportOutcome[];
  marker: string;
  topFailures: number;
}

/** Plain text: ServiceNow renders work notes as text (HTML only inside `[code]` tags). */
export function buildSummaryNote({ data, outcomes, marker, topFailures }: SummaryInput): string {
  const lines: string[] = [];
  const where = [data.project, data.environment].filter(Boolean).join(' → ');
  const run = data.run
    ? ` — run ${data.run.name ?? data.run.id}${data.run.url ? ` ${data.run.url}` : ''}`
    : '';
  lines.push(`changegate: test evidence for ${where}${run}`);

  const counts = testCounts(data.summary, outcomes);
  if (counts) {
    const verdict = counts.failed > 0 ? 'FAILED' : 'passed';
    lines.push(
      `Tests ${verdict}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (from ${counts.from})`,
    );
  } else {
    lines.push('Tests: no counts (no summary and no readable JUnit report)');
  }

  for (const o of outcomes) {
    if (!o.sarif) continue;
    const c = o.sarif.counts;
    const tools = o.sarif.tools.length ? ` by ${o.sarif.tools.join(', ')}` : '';
    const suppressed = o.sarif.suppressed ? `, ${o.sarif.suppressed} suppressed` : '';
    lines.push(
      `Static analysis ${o.name}${tools}: ${c.error} error, ${c.warning} warning, ${c.note} note${suppressed}`,
    );
  }
  for (const o of outcomes) {
    if (o.format === 'sarif' && !o.sarif && o.status !== 'refused' && o.status !== 'unavailable') {
      lines.push(`Static analysis ${o.name}: not readable as SARIF (cut or malformed)`);
    }
  }

  const top = [
    ...outcomes.flatMap((o) =>
      (o.junit?.failures ?? []).map((f) => `${f.test}${f.message ? `: ${f.message}` : ''}`),
    ),
    ...outcomes.flatMap((o) =>
      (o.sarif?.findings ?? [])
        .filter((f) => f.level === 'error')
        .map((f) => `[${f.ruleId}] ${f.location ? `${f.location}: ` : ''}${f.message}`),
    ),
  ];
  if (top.length > 0 && topFailures > 0) {
    lines.push(`Top failures (${Math.min(topFailures, top.length)} of ${top.length}):`);
    top.slice(0, topFailures).forEach((t, i) => lines.push(`  ${i + 1}. ${t}`));
  }

  const attached = outcomes.filter(
    (o) => o.status === 'attached' || o.status === 'already-attached',
  );
  if (attached.length > 0) {
    lines.push('Attached:');
    for (const o of attached) {
      const cut = o.truncated
        ? ` — TRUNCATED to the first ${formatBytes(o.bytes ?? 0)} of ${formatBytes(o.originalBytes ?? 0)}`
        : '';
      lines.push(`  - ${o.name} (${o.contentType}, ${formatBytes(o.bytes ?? 0)})${cut}`);
    }
  }
  const missing = outcomes.filter((o) => o.status === 'refused' || o.status === 'unavailable');
  if (missing.length > 0) {
    lines.push('Not attached:');
    for (const o of missing) lines.push(`  - ${o.name}: ${o.status}: ${o.reason ?? ''}`);
  }
  lines.push(`[${marker}]`);
  return lines.join('\n');
}
