import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that was free a moment ago: for a process that must be told its own port
 * (or another's, as the sandbox is told the receiver's) before it starts.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
