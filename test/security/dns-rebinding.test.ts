import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowedBlockList,
  createGuardedFetch,
  type ResolvedAddress,
} from '../../src/ci/address-guard.js';

// Issue 15 hole 6: the callback's address was never pinned. A name that answers an allowed
// address for the check and an internal one for the connection (DNS rebinding) reached the
// internal one. The guarded fetch connects only to the address it vetted, and vets every time.

/** Two servers on one port: 127.0.0.2 stands for the allowed CI host, 127.0.0.1 for an internal one. */
const hits: string[] = [];
let allowed: Server;
let internal: Server;
let port: number;
const serve = (host: string, name: string, at: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer((req, res) => {
      hits.push(`${name} ${req.method} ${req.url} host=${req.headers.host}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"server":"${name}"}`);
    });
    s.once('error', reject);
    s.listen(at, host, () => resolve(s));
  });

beforeAll(async () => {
  allowed = await serve('127.0.0.2', 'allowed', 0);
  port = (allowed.address() as AddressInfo).port;
  internal = await serve('127.0.0.1', 'internal', port);
});
afterAll(async () => {
  await Promise.all([allowed, internal].map((s) => new Promise((r) => s?.close(r))));
});

describe('a callback host whose DNS answer changes between check and connect', () => {
  it('is connected to the address that was checked, and refused when the answer turns internal', async () => {
    // First answer: the allowed address. Every later answer: loopback (the rebinding).
    let lookups = 0;
    const answers: ResolvedAddress[][] = [[{ address: '127.0.0.2', family: 4 }]];
    const resolve = async () =>
      answers[lookups++] ?? [{ address: '127.0.0.1', family: 4 as const }];
    const guarded = createGuardedFetch(
      { allowLoopback: false, allowed: allowedBlockList(['127.0.0.2']) },
      { resolve },
    );
    // `rebind.invalid` has no DNS record at all: the request succeeds only if it is pinned.
    const url = `http://rebind.invalid:${port}/gate/1`;
    const first = await guarded(url, { method: 'POST', body: '{}' });
    expect(await first.json()).toEqual({ server: 'allowed' });
    await expect(guarded(url, { method: 'POST', body: '{}' })).rejects.toThrow(
      /resolves to 127\.0\.0\.1 \(loopback\)/,
    );
    expect(hits).toEqual([`allowed POST /gate/1 host=rebind.invalid:${port}`]);
    expect(lookups).toBe(2);
  });
});
