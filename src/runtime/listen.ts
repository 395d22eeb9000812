import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  port: number;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then drop the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Serve a fetch handler (Hono app) on host:port; port 0 picks a free one. */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  { port, host = '127.0.0.1' }: { port: number; host?: string },
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host }, (info: AddressInfo) => {
      const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: (graceMs = 10_000) => closeServer(server as Server, graceMs),
      });
    }) as Server;
    server.once('error', reject);
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
  });
}
