import { STATE_LABELS } from '../sandbox/servicenow/change-model.js';
import type { Narrator } from './narrator.js';
import type { ReleaseFigures } from './release-figures.js';
import type { DeploymentOutcome } from './scene.js';
import type { DemoStack } from './stack.js';

const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} ms`);

/** One row per CR in the sandbox: what ServiceNow holds, and what the gate decided. */
export function summaryRows(
  stack: DemoStack,
  outcomes: DeploymentOutcome[],
  narrator: Narrator,
): string[][] {
  const { paint } = narrator;
  return stack.servicenow.admin
    .records('change_request')
    .sort((a, b) => (a.number ?? '').localeCompare(b.number ?? ''))
    .map((cr) => {
      const o = outcomes.find((x) => x.number === cr.number);
      const parent = outcomes.find((x) => x.followUp === cr.number);
      const code = cr.close_code ?? '';
      return [
        paint.bold(cr.number ?? '?'),
        o ? `run ${o.deployment.runId}` : parent ? `follow-up of ${parent.number}` : '—',
        cr.type ?? '',
        STATE_LABELS[cr.state ?? ''] ?? cr.state ?? '',
        cr.approval ?? '',
        code === 'successful' ? paint.green(code) : code ? paint.red(code) : '—',
        o?.gate === 'released' ? paint.green('released') : (o?.gate ?? '—'),
        o?.createdAfterMs === undefined ? '—' : ms(o.createdAfterMs),
        ms(o?.approvalToReleaseMs),
      ];
    });
}

export const SUMMARY_HEADER = [
  'CR',
  'deployment',
  'type',
  'state',
  'approval',
  'close code',
  'gate',
  '202→CR',
  'approval→release',
];

/** The release manager's figures, as `/metrics` reports them. */
export function figureLines(f: ReleaseFigures, narrator: Narrator): string[] {
  const { paint } = narrator;
  const closed = Object.entries(f.closed)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const deliveries = Object.entries(f.deliveries)
    .map(
      ([source, outcomes]) =>
        `${source}: ${Object.entries(outcomes)
          .map(([outcome, n]) => `${n} ${outcome}`)
          .join(', ')}`,
    )
    .join(' · ');
  return [
    `change creation time   ${paint.bold(ms(f.changeCreationMs))} mean over ${f.changesCreated} CR(s)  ${paint.dim('changegate_change_creation_seconds')}`,
    `gate release latency   ${paint.bold(ms(f.gateReleaseLatencyMs))} mean over ${f.gatesReleased} release(s)  ${paint.dim('changegate_gate_release_latency_seconds')}`,
    `change success rate    ${paint.bold(f.successRate === undefined ? '—' : `${Math.round(f.successRate * 100)} %`)} (${closed || 'none closed'})  ${paint.dim('changegate_changes_closed_total')}`,
    `webhook deliveries     ${deliveries || 'none'}  ${paint.dim('changegate_deliveries_total')}`,
  ];
}
