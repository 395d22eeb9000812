import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { UpstreamError } from '../errors.js';
import { CallbackRefusedError } from './errors.js';
import { pinnedFetch } from './pinned-fetch.js';

/**
 * The second half of the SSRF guard (the first is allow-list.ts, on names): the addresses a
 * callback host resolves to. An allowed name is not an allowed address — `*.ci.example` admits
 * whatever a wildcard record points at, 127.0.0.1 and 169.254.169.254 (cloud metadata)
 * included. Every address of the name must be public, loopback only with `allowLoopback`, and
 * private or link-local ones only when listed in `allowAddresses` (CIDR).
 *
 * @module
 */

export interface AddressPolicy {
  allowLoopback: boolean;
  /** CIDRs (`10.20.0.0/16`, `fd00::/8`) or single addresses allowed although not public. */
  allowAddresses: readonly string[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, like a plain request would use), every address. */
export const systemResolve: Resolve = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Ranges that are not the public internet (RFC 6890 special-purpose registries). */
const NOT_PUBLIC: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['64:ff9b:1::', 48, 'ipv6', 'local-use translation'],
  ['fc00::', 7, 'ipv6', 'unique-local'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const LOOPBACK: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
];

const ranges = NOT_PUBLIC.map(([net, prefix, type, kind]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, kind };
});
const loopback = new BlockList();
for (const [net, prefix, type] of LOOPBACK) loopback.addSubnet(net, prefix, type);

/** `::ffff:127.0.0.1` is 127.0.0.1: judge the IPv4 address inside an IPv4-mapped one. */
function unmapped(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Parse `allowAddresses` once. @throws TypeError on an entry that is not an address or CIDR. */
export function allowedBlockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const version = isIP(net ?? '');
    if (!version) throw new TypeError(`[changegate/ci] not an address or CIDR: ${entry}`);
    const type = version === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net!, type);
    else list.addSubnet(net!, Number(bits), type);
  }
  return list;
}

/** Why `address` may not be called, or undefined when it may. Pure. */
export function addressRefusal(
  raw: string,
  policy: { allowLoopback: boolean; allowed: BlockList },
): string | undefined {
  const { address, type } = unmapped(raw);
  if (policy.allowed.check(address, type)) return undefined;
  if (loopback.check(address, type)) return policy.allowLoopback ? undefined : 'loopback';
  return ranges.find((r) => r.list.check(address, type))?.kind;
}

/**
 * Resolve `hostname` and vet every address.
 * @returns the addresses to connect to (the request must be pinned to them).
 * @throws CallbackRefusedError naming the host, the address and its range.
 */
export async function vetHost(
  hostname: string,
  policy: { allowLoopback: boolean; allowed: BlockList },
  resolve: Resolve | undefined = systemResolve,
): Promise<ResolvedAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(bare);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: bare, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await (resolve ?? systemResolve)(bare);
    } catch (err) {
      // A resolver failure may pass: retry, unlike a refusal.
      throw new UpstreamError(
        `[changegate/ci] ${bare} does not resolve: ${(err as Error).message}`,
        {
          retryable: true,
        },
      );
    }
  }
  if (addresses.length === 0)
    throw new UpstreamError(`[changegate/ci] ${bare} has no address`, { retryable: true });
  for (const { address } of addresses) {
    const why = addressRefusal(address, policy);
    if (why) {
      throw new CallbackRefusedError(
        `${bare} resolves to ${address} (${why}); list it in ci.allowAddresses to allow it`,
      );
    }
  }
  return addresses;
}

/**
 * A fetch that resolves the URL's host, vets every address, then connects to a vetted one
 * through {@link pinnedFetch} — no second lookup between the check and the connect, so a DNS
 * answer that changes in between (rebinding) is never used. With `fetchImpl` (tests) the
 * check still runs and the given fetch makes the connection.
 */
export function createGuardedFetch(
  policy: { allowLoopback: boolean; allowed: BlockList },
  {
    resolve = systemResolve,
    fetchImpl,
  }: { resolve?: Resolve | undefined; fetchImpl?: typeof fetch | undefined } = {},
): typeof fetch {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const addresses = await vetHost(new URL(url).hostname, policy, resolve);
    return fetchImpl ? fetchImpl(input, init) : pinnedFetch(url, init, addresses[0]!);
  };
}
