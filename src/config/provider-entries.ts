import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Small schemas the per-provider config fragments (`src/providers/<name>/config.ts`) share with
 * `ci.ts` and `schema.ts`. Kept apart from those two so a fragment never imports the file that
 * assembles it.
 *
 * @module
 */

/** One or several secrets: several allow rotation (old and new both accepted during the switch). */
export const secretList = <T extends z.ZodType<string>>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).min(1));

/** `host` or `host:port`, lower case, as `new URL(u).host` spells it. */
export const HostKey = z
  .string()
  .regex(/^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i, 'must be host or host:port')
  .transform((h) => h.toLowerCase());

/**
 * One allow-list entry. Either a URL prefix (`https://gitlab.example.com/api/v4/projects/12/`:
 * same scheme, host and port, path on a segment boundary) or a host pattern
 * (`dev.azure.com`, `*.visualstudio.com`, `jenkins.internal:8443`).
 */
export const AllowEntrySchema = z
  .string()
  .min(1)
  .refine((e) => {
    if (!e.includes('://')) return /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(e);
    try {
      const u = new URL(e);
      return !u.username && !u.password && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'must be a URL prefix (https://host/path/) or a host pattern (host, *.domain, host:port)');

/** An address or CIDR (`10.20.0.0/16`, `fd00::/8`, `192.0.2.7`). */
export const AddressEntrySchema = z.string().refine((e) => {
  const [net, bits, extra] = e.split('/');
  const version = isIP(net ?? '');
  if (!version || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (version === 6 ? 128 : 32);
}, 'must be an IP address or CIDR (10.20.0.0/16)');
