import type { IncidentPolicy } from '../../config/incident.js';
import { globMatch } from '../../policy/glob.js';
import type { Occurrence } from './occurrence.js';

/**
 * The first policy whose match fits and that files incidents for this kind of failure, or
 * undefined. A success is matched the same way, so it finds the policy its failure used.
 */
export function resolveIncidentPolicy(
  policies: readonly IncidentPolicy[],
  o: Pick<Occurrence, 'provider' | 'project' | 'environment' | 'kind'>,
): IncidentPolicy | undefined {
  const policy = policies.find(
    (p) =>
      globMatch(p.match.provider, o.provider) &&
      globMatch(p.match.project, o.project) &&
      globMatch(p.match.environment, o.environment),
  );
  return policy?.on.includes(`${o.kind}.failed`) ? policy : undefined;
}
