import type { Receiver } from '../../../receivers/types.js';
import { normalize } from './normalize.js';
import { jenkinsSecrets, verify, type JenkinsSecrets } from './verify.js';

export type { JenkinsSecrets } from './verify.js';
export { jenkinsInputId } from './normalize.js';

/**
 * `POST /hooks/jenkins`: the changegate format sent by our Jenkins shared-library step, signed as
 * a Standard Webhook; delivery id = `webhook-id`. A `deployment.requested` with a callback is a
 * build waiting in `input id: 'ChangeGate'`.
 */
export const jenkinsReceiver: Receiver<JenkinsSecrets> = {
  name: 'jenkins',
  secrets: jenkinsSecrets,
  verify,
  normalize,
};
