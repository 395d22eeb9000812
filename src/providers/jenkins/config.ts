import { z } from 'zod';
import { HostKey, secretList } from '../../config/provider-entries.js';
import { WhsecSchema } from '../../config/primitives.js';

// `sources.jenkins`: Standard-Webhooks secrets of our shared-library step.
export const JenkinsSourceSchema = z.object({ secrets: secretList(WhsecSchema) }).optional();

/** Jenkins API-token credentials by host; API-token requests are exempt from CSRF crumbs. */
export const JenkinsCiSchema = z
  .record(HostKey, z.object({ user: z.string().min(1), apiToken: z.string().min(1) }))
  .default({});
export type JenkinsCiConfig = z.output<typeof JenkinsCiSchema>;
