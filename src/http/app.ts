import { Hono } from 'hono';
import type { Bus } from '../bus/port.js';
import { topicSpecs } from '../bus/topics.js';
import { asyncApiDocument } from '../events/asyncapi.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { bodyLimit } from './body-limit.js';
import { errorResponse } from './errors.js';
import { createHooksRoutes, type HooksOptions } from './hooks.js';
import { createOpsRoutes } from './ops.js';
import { openApiDocument } from './openapi.js';

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

  // Every route, the status page's included: no handler may read more than this.
  app.use('*', bodyLimit(options.config.ingest.maxBodyBytes));
  app.route('/hooks', createHooksRoutes(options));
  app.route('/', createOpsRoutes({ bus, metrics }));
  // API documents: built on first request (the JSON Schemas are generated from zod), then kept.
  let openapi: object | undefined;
  let asyncapi: object | undefined;
  app.get('/openapi.json', (c) => c.json((openapi ??= openApiDocument())));
  app.get('/asyncapi.json', (c) =>
    c.json(
      (asyncapi ??= asyncApiDocument({
        topics: options.config.kafka.topics,
        specs: topicSpecs(options.config.kafka),
      })),
    ),
  );
  extend?.(app);

  app.notFound((c) =>
    c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((err, c) => errorResponse(err, c, log));
  return app;
}
