import type { Receiver } from '../../../receivers/types.js';
import { normalize } from './normalize.js';
import { servicenowSecrets, verify, type ServiceNowSecrets } from './verify.js';

export type { ServiceNowSecrets } from './verify.js';
export { ServiceNowMessageSchema, type ServiceNowMessage } from './format.js';

/**
 * `POST /hooks/servicenow`: the signed outbound message of our business rule (and the sandbox),
 * format in `format.ts`; delivery id = `webhook-id`.
 */
export const servicenowReceiver: Receiver<ServiceNowSecrets> = {
  name: 'servicenow',
  secrets: servicenowSecrets,
  verify,
  normalize,
};
