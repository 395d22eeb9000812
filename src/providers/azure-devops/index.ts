import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { createAzureDevopsClient } from './callback.js';
import { AZURE_DEVOPS_GATE_LIMIT, AzureDevopsCiSchema, AzureDevopsSourceSchema } from './config.js';
import { azureDevopsReceiver } from './receiver/index.js';

/**
 * Azure DevOps: an Invoke REST API check in callback mode, and service hooks (receiver, check
 * completion callback).
 *
 * @module
 */
export const azureDevops = defineProvider({
  name: 'azure-devops',
  receiver: azureDevopsReceiver as Receiver<never>,
  // Azure Pipelines fails an Invoke REST API check that is not answered within 3 s.
  ackWithinMs: 2_500,
  source: { key: 'azureDevops', schema: AzureDevopsSourceSchema },
  ci: { key: 'azureDevops', schema: AzureDevopsCiSchema },
  callback: (config, { http, sealer }) => ({
    client: createAzureDevopsClient(
      { sealer, ...(config.apiVersion ? { apiVersion: config.apiVersion } : {}) },
      http,
    ),
  }),
  gateLimit: AZURE_DEVOPS_GATE_LIMIT,
});
