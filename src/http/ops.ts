import { Hono } from 'hono';
import type { Bus } from '../bus/port.js';
import type { Metrics } from '../metrics.js';

/**
 * `/healthz` (process up), `/readyz` (bus reachable) and `/metrics` (Prometheus): what every
 * changegate process serves, receiver or worker, so probes and scrapes work the same for both.
 */
export function createOpsRoutes({
  bus,
  metrics,
}: {
  bus: Pick<Bus, 'isReady' | 'kind'>;
  metrics: Metrics;
}): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = await bus.isReady().catch(() => false);
    return c.json({ status: ready ? 'ready' : 'unavailable', bus: bus.kind }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  return app;
}
