import { z } from 'zod';
import { secretList } from '../../config/provider-entries.js';
import { HmacSecretSchema } from '../../config/primitives.js';

// `sources.github`: the webhook secrets (several during a rotation).
export const GithubSourceSchema = z.object({ secrets: secretList(HmacSecretSchema) }).optional();

// `ci.github`: the GitHub App that reviews deployment protection rules.
export const GithubCiSchema = z
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
  .optional();
export type GithubCiConfig = NonNullable<z.output<typeof GithubCiSchema>>;

// The 30 days are issue 13's reading of GitHub's docs; not re-checked here (GitHub's client
// and its sources belong to the GitHub integration).
export const GITHUB_GATE_LIMIT = {
  minutes: 30 * 24 * 60,
  why: 'GitHub fails a deployment waiting on a protection rule after 30 days',
};
