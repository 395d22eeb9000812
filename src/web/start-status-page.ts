import type { Hono } from 'hono';
import type { Bus } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { startBusStatusSource } from './bus-status-source.js';
import { createStatusRoutes, type ChangeActions } from './routes.js';
import type { StatusSource } from './status-source.js';

/** Where the receiver serves the page. */
export const STATUS_PATH = '/status';

export interface StatusPage {
  /** Mount the routes on the receiver's app (the `extend` hook of createApp). */
  mount(app: Hono): void;
  close(): Promise<void>;
}

export interface StartStatusPageOptions {
  config: Pick<Config, 'web' | 'bus' | 'kafka'>;
  bus: Bus;
  log: Logger;
  /** Sandbox demo only: approve/reject buttons that act on the ServiceNow sandbox. */
  actions?: ChangeActions;
  /** Default: read the bus (startBusStatusSource). */
  source?: StatusSource;
}

/**
 * Whether the page is served, and how: behind `web.token` when one is configured; open in the
 * embedded mode (memory bus) when none is; otherwise off, and `/status` is a 404.
 */
export function statusPageMode(config: Pick<Config, 'web' | 'bus'>): 'token' | 'open' | 'off' {
  if (!config.web.enabled) return 'off';
  if (config.web.token) return 'token';
  return config.bus === 'memory' ? 'open' : 'off';
}

/**
 * Start the status page's data source and routes, or return undefined when the page is off.
 *
 * @example
 * const page = await startStatusPage({ config, bus, log });
 * createApp({ …, extend: (app) => page?.mount(app) });
 */
export async function startStatusPage({
  config,
  bus,
  log,
  actions,
  source: given,
}: StartStatusPageOptions): Promise<StatusPage | undefined> {
  const mode = statusPageMode(config);
  if (mode === 'off') return undefined;
  const source =
    given ??
    (await startBusStatusSource({
      bus,
      topics: config.kafka.topics,
      log,
      recent: config.web.recent,
    }));
  const routes = createStatusRoutes({
    source,
    log,
    base: STATUS_PATH,
    ...(config.web.token ? { token: config.web.token } : {}),
    ...(actions ? { actions } : {}),
  });
  log.info(
    { path: STATUS_PATH, auth: mode, decisions: actions !== undefined },
    mode === 'open'
      ? 'status page on (embedded mode: no token, not for production)'
      : 'status page on (bearer token)',
  );
  return {
    mount: (app) => {
      app.route(STATUS_PATH, routes.app);
    },
    close: async () => {
      await routes.close();
      if (!given) await source.close();
    },
  };
}
