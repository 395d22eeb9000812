import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';

export interface Listening {
  url: string;
  port: number;
  /** Stop accepting, let in-flight requests finish (up to `graceMs`), then drop the rest. */
  close(graceMs?: number): Promise<void>;
}

export type ListenOptions = Pick<Config['server'], 'port'> &
  Partial<
    Pick<Config['server'], 'host' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'maxConnections'>
  >;

/**
 * Serve a fetch handler (Hono app) on host:port; port 0 picks a free one.
 *
 * The HTTP server is the first thing an anonymous client reaches, so it is bounded: headers and
 * the whole request must arrive within their timeouts (a body sent one byte at a time is cut
 * with 408 and the connection closed), and connections past `maxConnections` are dropped on
 * accept. Node checks the timeouts on an interval, so the interval is kept well under them.
 */
export function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  {
    port,
    host = '127.0.0.1',
    headersTimeoutMs = 10_000,
    requestTimeoutMs = 30_000,
    maxConnections = 1024,
  }: ListenOptions,
): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch,
        port,
        hostname: host,
        serverOptions: {
          headersTimeout: headersTimeoutMs,
          requestTimeout: requestTimeoutMs,
          connectionsCheckingInterval: Math.max(
            100,
            Math.min(1000, Math.floor(headersTimeoutMs / 4)),
          ),
        },
      },
      (info: AddressInfo) => {
        const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
        resolve({
          url: `http://${shownHost}:${info.port}`,
          port: info.port,
          close: (graceMs = 10_000) => closeServer(server as Server, graceMs),
        });
      },
    ) as Server;
    server.maxConnections = maxConnections;
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
