import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { createGitlabClient } from './callback.js';
import { GitlabCiSchema, GitlabSourceSchema } from './config.js';
import { gitlabReceiver } from './receiver/index.js';

/**
 * GitLab: protected environments with deployment approvals (receiver, approve-and-play callback).
 *
 * @module
 */
export const gitlab = defineProvider({
  name: 'gitlab',
  receiver: gitlabReceiver as Receiver<never>,
  source: { key: 'gitlab', schema: GitlabSourceSchema },
  ci: { key: 'gitlab', schema: GitlabCiSchema },
  callback: (config, { http }) => ({ client: createGitlabClient({ tokens: config }, http) }),
});
