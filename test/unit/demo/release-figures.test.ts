import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { releaseFigures } from '../../../src/demo/release-figures.js';
import { createMetrics } from '../../../src/metrics.js';

describe('releaseFigures', () => {
  it('reads creation time, release latency, success rate and deliveries from a real registry', async () => {
    const metrics = createMetrics({ defaults: false });
    metrics.changeCreation.observe(0.1);
    metrics.changeCreation.observe(0.3);
    metrics.gateReleaseLatency.observe(0.02);
    metrics.changesClosed.inc({ close_code: 'successful' }, 3);
    metrics.changesClosed.inc({ close_code: 'unsuccessful' });
    metrics.deliveries.inc({ source: 'github', outcome: 'accepted' }, 2);
    metrics.deliveries.inc({ source: 'github', outcome: 'duplicate' });
    metrics.deliveries.inc({ source: 'servicenow', outcome: 'accepted' }, 5);

    const f = releaseFigures(await metrics.registry.metrics());

    expect(f.changeCreationMs).toBeCloseTo(200, 6);
    expect(f.changesCreated).toBe(2);
    expect(f.gateReleaseLatencyMs).toBeCloseTo(20, 6);
    expect(f.gatesReleased).toBe(1);
    expect(f.closed).toEqual({ successful: 3, unsuccessful: 1 });
    expect(f.successRate).toBe(0.75);
    expect(f.deliveries).toEqual({
      github: { accepted: 2, duplicate: 1 },
      servicenow: { accepted: 5 },
    });
  });

  it('reports no figures rather than zero when nothing was created, released or closed', async () => {
    const f = releaseFigures(await createMetrics({ defaults: false }).registry.metrics());
    expect(f.changeCreationMs).toBeUndefined();
    expect(f.gateReleaseLatencyMs).toBeUndefined();
    expect(f.successRate).toBeUndefined();
    expect(f.closed).toEqual({});
  });

  it('keeps label values that contain commas, braces and escaped quotes intact', async () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'changegate_deliveries_total',
      help: 'x',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    });
    c.inc({ source: 'generic/a,b{c}"d"', outcome: 'accepted' });
    new Histogram({ name: 'unrelated_seconds', help: 'y', registers: [registry] }).observe(1);
    const f = releaseFigures(await registry.metrics());
    expect(Object.values(f.deliveries)).toEqual([{ accepted: 1 }]);
  });
});
