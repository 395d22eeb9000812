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

export const CiSchema = z
  .object({
    /**
     * Callback URLs must match one entry, else the call is refused (SSRF guard). Empty refuses
     * every callback: CI systems put these URLs in webhooks, so they are attacker-controlled input.
     */
    allowList: z.array(AllowEntrySchema).default([]),
    /** Allow http and https callbacks to 127.0.0.0/8, ::1 and localhost: tests and the demo only. */
    allowLoopback: z.boolean().default(false),
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
    gitlab: z.record(HostKey, z.object({ token: z.string().min(1) })).default({}),
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
    /** Standard Webhooks secret that signs generic callbacks. */
    generic: z.object({ secret: WhsecSchema }).optional(),
  })
  // prefault, not default: zod 4 returns a default as-is, so inner defaults would be skipped.
  .prefault({});

export type CiConfig = z.infer<typeof CiSchema>;
export type CiConfigInput = z.input<typeof CiSchema>;
