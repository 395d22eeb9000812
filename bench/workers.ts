/**
 * Benchmark 5: worker throughput. Deployment requests go through the change worker (CR created
 * and moved to Authorize: three ServiceNow calls) and approvals through the gate worker (move to
 * Implement, second business-rule round trip, GitHub callback), against a ServiceNow sandbox
 * that answers every API call after a realistic delay.
 */
import type { BenchContext } from './lib/context.js';
import { startGateStack } from './lib/gate-stack.js';
import type { Section } from './lib/report.js';
import { int, table } from './lib/stats.js';
import { registerGates, until } from './gate-latency.js';

const SERVICENOW_LATENCY_MS = 100;

export async function workersBenchmark(ctx: BenchContext): Promise<Section> {
  const count = ctx.quick ? 30 : 120;
  const stack = await startGateStack(ctx.brokers, `bench-${ctx.runId}-workers`);
  let changeMs = 0;
  let gateMs = 0;
  try {
    stack.servicenow.admin.faults.inject({
      kind: 'latency',
      path: '/api/*',
      latencyMs: SERVICENOW_LATENCY_MS,
    });
    const t0 = performance.now();
    const crs = await registerGates(stack, ctx, count);
    changeMs = performance.now() - t0;
    ctx.say(`workers: ${count} CRs created and in Authorize in ${int(changeMs)} ms`);

    const t1 = performance.now();
    for (const number of crs.values()) stack.servicenow.admin.approve(number);
    await until(
      `${count} releases`,
      () => stack.ci.received().filter((c) => c.effect === 'released').length >= count,
      120_000,
    );
    gateMs = performance.now() - t1;
    ctx.say(`workers: ${count} gates released in ${int(gateMs)} ms`);
  } finally {
    await stack.close();
  }
  const perSecond = (n: number, ms: number) => ((n * 1000) / ms).toFixed(1);
  const body = `
Run \`${ctx.runId}\`${ctx.quick ? ' (quick)' : ''}. Every ServiceNow API call answers after
${SERVICENOW_LATENCY_MS} ms (sandbox latency fault on \`/api/*\`). Both workers consume their
topic with ${'`kafka.consumeConcurrency`'} partitions at a time (default 4), so throughput is
about concurrency ÷ (ServiceNow calls per event × latency).

${table(
  ['stage', 'events', 'wall ms', 'events/s', 'ServiceNow calls per event'],
  [
    [
      'change worker: deployment request → CR created, moved to Authorize, gate registered',
      count,
      int(changeMs),
      perSecond(count, changeMs),
      '4 (lookup, create, Assess, Authorize)',
    ],
    [
      'gate worker: approvals all at once → releases received by GitHub',
      count,
      int(gateMs),
      perSecond(count, gateMs),
      '3 (approvers, move to Implement, work note) + business-rule round trip',
    ],
  ],
)}
`;
  return { id: 'workers', title: '3d. Worker throughput', body, goals: [] };
}
