import { z } from 'zod';
import { secretList } from '../../config/provider-entries.js';

// `sources.azureDevops`: how service hook and check deliveries authenticate.
export const AzureDevopsSourceSchema = z
  .object({
    /** `user:password` pairs of the service hook / service connection Basic auth. */
    basic: secretList(z.string().regex(/^[^:]+:.+$/, 'must be user:password')),
    /** Optional extra shared header, e.g. `X-Changegate-Key`. */
    header: z.object({ name: z.string().min(1), values: secretList(z.string().min(1)) }).optional(),
  })
  .optional();

/**
 * Azure DevOps check callbacks. `apiVersion` of the plan events call (preview-only API):
 * default `7.1-preview.1` on dev.azure.com / *.visualstudio.com, `6.0-preview.1` elsewhere
 * (Azure DevOps Server 2020 supports up to 6.0, Server 2022 up to 7.0).
 */
export const AzureDevopsCiSchema = z
  .object({
    apiVersion: z
      .string()
      .regex(/^\d+\.\d+(-preview(\.\d+)?)?$/, 'must look like 7.0 or 7.0-preview.1')
      .optional(),
  })
  .prefault({});
export type AzureDevopsCiConfig = z.output<typeof AzureDevopsCiSchema>;

export const AZURE_DEVOPS_GATE_LIMIT = {
  minutes: 48 * 60,
  why: "Azure DevOps' check AuthToken is valid 48 hours (invoke-checks.md) and Azure does not retry a callback-mode check",
};
