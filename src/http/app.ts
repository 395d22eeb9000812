import { Hono } from 'hono';
import type { Bus } from '../bus/port.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { errorResponse } from './errors.js';
import { createHooksRoutes, type HooksOptions } from './hooks.js';

export interface AppOptions extends HooksOptions {
  bus: Pick<Bus, 'isReady' | 'kind'>;
  log: Logger;
  metrics: Metrics;
  /** Extra routes mounted at the root (status page, API documents). */
  extend?: (app: Hono) => void;
}

/**
 * The receiver's HTTP app: webhooks under `/hooks`, `/healthz` (process up), `/readyz` (bus
 * writable), `/metrics` (Prometheus).
 * @example serve({ fetch: createApp(options).fetch, port: 8080 })
 */
export function createApp(options: AppOptions): Hono {
  const { bus, log, metrics, extend } = options;
  const app = new Hono();

  app.route('/hooks', createHooksRoutes(options));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = await bus.isReady().catch(() => false);
    return c.json({ status: ready ? 'ready' : 'unavailable', bus: bus.kind }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
  extend?.(app);

  app.notFound((c) =>
    c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => errorResponse(err, c, log));
  return app;
}
