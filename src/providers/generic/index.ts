import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { createGenericClient, genericAllowPolicy } from './callback.js';
import { GenericCiSchema, GenericSourceSchema } from './config.js';
import { genericReceiver } from './receiver/index.js';

/**
 * Generic: any system that speaks changegate's Standard-Webhooks format
 * (`/hooks/generic/:source`, signed callbacks to its own allow-list).
 *
 * @module
 */
export const generic = defineProvider({
  name: 'generic',
  receiver: genericReceiver as Receiver<never>,
  source: { key: 'generic', schema: GenericSourceSchema },
  ci: { key: 'generic', schema: GenericCiSchema },
  callback: (config, { http }) => ({ client: createGenericClient(config ?? {}, http) }),
  allowPolicy: genericAllowPolicy,
});
