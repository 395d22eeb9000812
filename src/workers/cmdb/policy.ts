import type { CmdbPolicy } from '../../config/cmdb.js';
import { globMatch } from '../../policy/glob.js';
import type { Installed } from './payload.js';

/** The first policy of `kind` whose match fits, or undefined. */
export function resolveCmdbPolicy(
  policies: readonly CmdbPolicy[],
  kind: CmdbPolicy['kind'],
  i: Pick<Installed, 'provider' | 'project' | 'environment' | 'pipeline'>,
): CmdbPolicy | undefined {
  return policies.find(
    (p) =>
      p.kind === kind &&
      globMatch(p.match.provider, i.provider) &&
      globMatch(p.match.project, i.project) &&
      globMatch(p.match.environment, i.environment) &&
      globMatch(p.match.pipeline, i.pipeline),
  );
}
