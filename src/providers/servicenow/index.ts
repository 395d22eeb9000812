import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { ServicenowSourceSchema } from './config.js';
import { servicenowReceiver } from './receiver/index.js';

/**
 * ServiceNow's business-rule messages (`/hooks/servicenow`). Receiver only: the ServiceNow
 * client lives in `src/servicenow/`, and no gate waits in ServiceNow.
 *
 * @module
 */
export const servicenow = defineProvider({
  name: 'servicenow',
  receiver: servicenowReceiver as Receiver<never>,
  source: { key: 'servicenow', schema: ServicenowSourceSchema },
});
