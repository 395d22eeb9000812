import type { Receiver } from '../../../receivers/types.js';
import { normalize } from './normalize.js';
import { genericSecrets, verify, type GenericSecrets } from './verify.js';

export type { GenericSecrets } from './verify.js';
export {
  normalizeChangegateBody,
  type ChangegateOrigin,
} from '../../../receivers/changegate-body.js';

/**
 * `POST /hooks/generic/:source`: any system that sends the changegate format
 * (`changegate-format.ts`) signed as a Standard Webhook. Events carry `provider: 'generic'` and
 * `source: <:source>`; keys and correlation ids are `generic/<source>/<project>/<deployment>`.
 */
export const genericReceiver: Receiver<GenericSecrets> = {
  name: 'generic',
  secrets: genericSecrets,
  verify,
  normalize,
};
