import { randomBytes } from 'node:crypto';

/** Secrets the senders of a process stack sign with and its receiver checks (new per run). */
export const STACK_SECRETS = {
  github: `gh-${randomBytes(16).toString('hex')}`,
  gitlab: `gl-${randomBytes(8).toString('hex')}`,
  /** Jenkins deliveries and ServiceNow business-rule messages (Standard Webhooks). */
  whsec: `whsec_${randomBytes(32).toString('base64')}`,
  azureUser: 'azure-check',
  azurePassword: `az-${randomBytes(8).toString('hex')}`,
};
