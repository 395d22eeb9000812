import { z } from 'zod';
import { HostKey, secretList } from '../../config/provider-entries.js';
import { WhsecSchema } from '../../config/primitives.js';

// `sources.gitlab`: how webhook deliveries authenticate.
export const GitlabSourceSchema = z
  .object({
    /** Plain `X-Gitlab-Token` values. */
    tokens: secretList(z.string().min(1)).optional(),
    /** The newer Standard-Webhooks `signing_token` (whsec_…). */
    signingTokens: secretList(WhsecSchema).optional(),
  })
  .refine((g) => g.tokens || g.signingTokens, 'gitlab needs tokens or signingTokens')
  .optional();

/** GitLab tokens by instance host (`gitlab.com`, `gitlab.example.com:8443`). */
export const GitlabCiSchema = z
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
  .default({});
export type GitlabCiConfig = z.output<typeof GitlabCiSchema>;
