import type { Receiver } from '../../../receivers/types.js';
import { normalize } from './normalize.js';
import { azureDevopsSecrets, verify, type AzureDevopsSecrets } from './verify.js';

export type { AzureDevopsSecrets } from './verify.js';
export { planEventsUrl } from './check.js';

/**
 * `POST /hooks/azure-devops`: Invoke REST API checks (delivery id `check:<PlanId>:<TaskInstanceId>`,
 * answered `{ status: 'accepted' }`) and service hook notifications (delivery id = notification
 * `id`), both authenticated by Basic auth plus the optional shared header; Azure signs neither.
 */
export const azureDevopsReceiver: Receiver<AzureDevopsSecrets> = {
  name: 'azure-devops',
  secrets: azureDevopsSecrets,
  verify,
  normalize,
};
