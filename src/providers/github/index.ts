import type { Receiver } from '../../receivers/types.js';
import { defineProvider } from '../types.js';
import { createInstallationTokens } from './app.js';
import { createGithubClient } from './callback.js';
import { createGithubCommits } from './commits.js';
import { GITHUB_GATE_LIMIT, GithubCiSchema, GithubSourceSchema } from './config.js';
import { githubReceiver } from './receiver/index.js';

/**
 * GitHub: deployment protection rules of a GitHub App (receiver, review callback, commit reads).
 *
 * @module
 */
export const github = defineProvider({
  name: 'github',
  receiver: githubReceiver as Receiver<never>,
  source: { key: 'github', schema: GithubSourceSchema },
  ci: { key: 'github', schema: GithubCiSchema },
  callback(config, { http }) {
    if (!config) return {};
    // One token cache for the callback and the commit reads: one exchange per installation.
    const tokens = createInstallationTokens(config, http);
    return {
      client: createGithubClient(config, { ...http, tokens }),
      commits: createGithubCommits(config, { ...http, tokens, appJwt: () => tokens.appJwt() }),
    };
  },
  gateLimit: GITHUB_GATE_LIMIT,
});
