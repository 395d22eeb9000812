import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';
import { SECRETS } from '../support/stack.js';

// Issue 15 hole 6: a body sent one byte every 10 s held a connection for 318 s (Node's
// defaults, no connection cap). server.requestTimeoutMs now bounds the whole request.

const REQUEST_TIMEOUT_MS = 2000;
let receiver: TestReceiver;
beforeAll(async () => {
  receiver = await startTestReceiver({
    config: {
      server: { headersTimeoutMs: 1000, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: 4 },
    },
    sources: { generic: { '*': { secrets: [SECRETS.whsec] } } },
  });
});
afterAll(() => receiver?.close());

/** Open a raw connection, send `head`, then one byte per second; resolve when the server ends it. */
function slowClient(head: string): Promise<{ closedAfterMs: number; reply: string }> {
  const { port } = receiver.runtime;
  return new Promise((resolve) => {
    const started = Date.now();
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    const drip = setInterval(() => socket.write('x'), 1000);
    const done = () => {
      clearInterval(drip);
      resolve({ closedAfterMs: Date.now() - started, reply });
    };
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 15_000); // the attack's own give-up: far past the limit
  });
}

describe('a slow sender', () => {
  it('has a body sent one byte per second cut within the configured request timeout', async () => {
    const { closedAfterMs, reply } = await slowClient(
      `POST /hooks/generic/argo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{`,
    );
    console.log(
      `slow body (1 byte/s): connection closed after ${closedAfterMs} ms (${reply.split('\r\n')[0]})`,
    );
    expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  }, 20_000);

  it('has headers sent one byte per second cut within the header timeout', async () => {
    const { closedAfterMs } = await slowClient('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(closedAfterMs).toBeLessThan(1000 + 1500);
  }, 20_000);

  it('cannot hold more than server.maxConnections connections', async () => {
    const sockets = Array.from({ length: 8 }, () => connect(receiver.runtime.port, '127.0.0.1'));
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            s.on('error', () => undefined);
            s.on('close', () => resolve(true));
            setTimeout(() => resolve(false), 500);
          }),
      ),
    );
    sockets.forEach((s) => s.destroy());
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(4);
  });
});
