import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { createJenkinsClient } from './callback.js';
import { JenkinsCiSchema, JenkinsSourceSchema } from './config.js';
import { jenkinsReceiver } from './receiver/index.js';

/**
 * Jenkins: a pipeline `input` step waiting on the CR (receiver, input proceed/abort callback).
 *
 * @module
 */
export const jenkins = defineProvider({
  name: 'jenkins',
  receiver: jenkinsReceiver as Receiver<never>,
  source: { key: 'jenkins', schema: JenkinsSourceSchema },
  ci: { key: 'jenkins', schema: JenkinsCiSchema },
  callback: (config, { http }) => ({ client: createJenkinsClient({ credentials: config }, http) }),
});
