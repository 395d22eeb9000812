import { isIP } from 'node:net';
import { z } from 'zod';
import { SECOND, WhsecSchema } from './primitives.js';

/**
 * Configuration of the CI callback clients (`ci:` in the YAML). The lead plugs `CiSchema` into
 * `ConfigSchema`; every key has a default so the demo needs none.
 *
 * @module
 */

/** `host` or `host:port`, lower case, as `new URL(u).host` spells it. */
const HostKey = z
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
const AddressEntrySchema = z.string().refine((e) => {
  const [net, bits, extra] = e.split('/');
  const version = isIP(net ?? '');
  if (!version || extra !== undefined) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (version === 6 ? 128 : 32);
}, 'must be an IP address or CIDR (10.20.0.0/16)');

/** A generic source's own callback secret and the only places its callbacks may go. */
const GenericCallbackSourceSchema = z.object({
  secret: WhsecSchema,
  allowList: z.array(AllowEntrySchema).min(1, 'needs at least one entry'),
});

export const CiSchema = z
  .object({
    /**
     * Callback URLs must match one entry, else the call is refused (SSRF guard). Empty refuses
     * every callback: CI systems put these URLs in webhooks, so they are attacker-controlled input.
     */
    allowList: z.array(AllowEntrySchema).default([]),
    /** Allow http and https callbacks to 127.0.0.0/8, ::1 and localhost: tests and the demo only. */
    allowLoopback: z.boolean().default(false),
    /**
     * Callback hosts must resolve to public addresses; private, link-local and other
     * special-purpose ones (10/8, 169.254/16, fc00::/7, …) only when listed here. Loopback is
     * `allowLoopback`.
     */
    allowAddresses: z.array(AddressEntrySchema).default([]),
    /** Per HTTP request, token exchange included. */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND),
    github: z
      .object({
        appId: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).transform(String),
        /** The App's private key, PEM (GitHub issues PKCS#1 `BEGIN RSA PRIVATE KEY`; PKCS#8 works too). */
        privateKey: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
        /** GitHub Enterprise Server: `https://HOST/api/v3`. */
        apiUrl: z
          .url()
          .default('https://api.github.com')
          .transform((u) => u.replace(/\/+$/, '')),
      })
      .optional(),
    /** GitLab tokens by instance host (`gitlab.com`, `gitlab.example.com:8443`). */
    gitlab: z
      .record(
        HostKey,
        z.object({
          token: z.string().min(1),
          /** Instance URL with any relative root; default `https://<host>`. */
          url: z
            .url({ protocol: /^https?$/ })
            .transform((u) => u.replace(/\/+$/, ''))
            .optional(),
          /** Projects (id or path) `changegate recover gitlab` looks at for waiting deploy jobs. */
          projects: z
            .array(z.union([z.string().min(1), z.number().int().positive()]).transform(String))
            .default([]),
        }),
      )
      .default({}),
    /** Jenkins API-token credentials by host; API-token requests are exempt from CSRF crumbs. */
    jenkins: z
      .record(HostKey, z.object({ user: z.string().min(1), apiToken: z.string().min(1) }))
      .default({}),
    /**
     * Azure DevOps check callbacks. `apiVersion` of the plan events call (preview-only API):
     * default `7.1-preview.1` on dev.azure.com / *.visualstudio.com, `6.0-preview.1` elsewhere
     * (Azure DevOps Server 2020 supports up to 6.0, Server 2022 up to 7.0).
     */
    azureDevops: z
      .object({
        apiVersion: z
          .string()
          .regex(/^\d+\.\d+(-preview(\.\d+)?)?$/, 'must look like 7.0 or 7.0-preview.1')
          .optional(),
      })
      .prefault({}),
    /**
     * Generic callbacks. `sources.<name>` (the `/hooks/generic/<name>` source) signs with its
     * own secret and calls only its own allow-list; `secret` signs for sources not listed there
     * (their URLs checked against `ci.allowList`).
     */
    generic: z
      .object({
        secret: WhsecSchema.optional(),
        sources: z.record(z.string(), GenericCallbackSourceSchema).default({}),
      })
      .refine(
        (g) => g.secret !== undefined || Object.keys(g.sources).length > 0,
        'ci.generic needs secret or sources',
      )
      .optional(),
  })
  // prefault, not default: zod 4 returns a default as-is, so inner defaults would be skipped.
  .prefault({});

export type CiConfig = z.infer<typeof CiSchema>;
export type CiConfigInput = z.input<typeof CiSchema>;
