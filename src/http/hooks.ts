import { Hono, type Context } from 'hono';
import { ingest, type IngestDeps } from '../ingest/ingest.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ReceiverEntry } from '../receivers/registry.js';
import { errorResponse } from './errors.js';
import { readBody } from './read-body.js';
import { rateLimit } from './rate-limit.js';
import { sourceLabeler } from './source-label.js';

export interface HooksOptions extends IngestDeps {
  receivers: Record<string, ReceiverEntry>;
  log: Logger;
  metrics: Metrics;
}

/**
 * `POST /hooks/:provider` and `POST /hooks/generic/:source`. The body is capped before it is
 * read (413), then handed as raw bytes to {@link ingest}.
 */
export function createHooksRoutes({ receivers, log, metrics, ...deps }: HooksOptions): Hono {
  const app = new Hono();
  const limit = deps.config.ingest.maxBodyBytes;
  const label = sourceLabeler(deps.config.sources, Object.keys(receivers));

  const perSource = deps.config.ingest.rateLimit;
  if (perSource) {
    app.use(
      '*',
      rateLimit({
        ...perSource,
        label,
        onLimited: (source) => metrics.deliveries.inc({ source, outcome: 'rate_limited' }),
      }),
    );
  }
  const handle = (name: string) => async (c: Context) => {
    const entry = receivers[name];
    const params = c.req.param() as Record<string, string>;
    if (!entry) {
      // Unknown names are counted under one label: a path must not mint metric series.
      metrics.deliveries.inc({ source: 'unknown', outcome: 'rejected_unknown_source' });
      return c.json({ error: 'not_found', message: `no route /hooks/${name}` }, 404);
    }
    const source = label(c.req.path);
    try {
      const body = await readBody(c, limit);
      const result = await ingest(
        entry.receiver,
        { headers: c.req.raw.headers, body, params },
        deps,
        { ackWithinMs: entry.ackWithinMs },
      );
      const unparsed = result.outcome === 'accepted' && result.unparsed !== undefined;
      metrics.deliveries.inc({ source, outcome: unparsed ? 'accepted_unparsed' : result.outcome });
      if (result.outcome === 'accepted') {
        // Where the acknowledged delivery is: on Kafka (acks=all) or fsynced in the spool.
        c.header('changegate-durability', result.durability);
        if (result.unparsed !== undefined) {
          log.info(
            { source, ids: result.ids, reason: result.unparsed },
            'delivery not understood; published as webhook.received',
          );
        } else log.debug({ source, ids: result.ids, types: result.types }, 'delivery accepted');
        return c.json(
          result.reply ?? { status: 'accepted', ids: result.ids, types: result.types },
          202,
        );
      }
      if (result.outcome === 'duplicate') {
        return c.json({ status: 'duplicate', deliveryId: result.deliveryId }, 200);
      }
      return c.json({ status: 'pong' }, 200);
    } catch (err) {
      const response = errorResponse(err, c, log);
      metrics.deliveries.inc({ source, outcome: outcomeOf(response.status) });
      if (response.status >= 500)
        log.warn({ source, status: response.status }, 'delivery not accepted');
      else
        log.info(
          { source, status: response.status, err: (err as Error).message },
          'delivery rejected',
        );
      return response;
    }
  };

  app.post('/generic/:source', handle('generic'));
  app.post('/:provider', (c) => handle(c.req.param('provider'))(c));
  return app;
}

function outcomeOf(status: number): string {
  switch (status) {
    case 401:
      return 'rejected_signature';
    case 404:
      return 'rejected_unknown_source';
    case 413:
      return 'too_large';
    case 503:
      return 'unavailable';
    default:
      return status < 500 ? 'rejected_payload' : 'error';
  }
}
