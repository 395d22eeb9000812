import type { SeparationOfDuties } from '../config/changes.js';
import type { Person } from '../events/cicd.js';
import type { Approver, GateRegisteredData } from '../events/gate.js';
import { globMatch } from '../policy/glob.js';

/** Whether separation of duties applies to a deployment to `environment`. */
export function separationApplies(sod: SeparationOfDuties, environment: string): boolean {
  return sod.enabled ?? sod.productionLike.some((g) => globMatch(g, environment));
}

const ROLES = {
  actor: 'trigger actor',
  commitAuthor: 'commit author',
  committer: 'committer',
  pullRequestAuthor: 'pull request author',
} as const;

const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a !== '' && a.toLowerCase() === b.toLowerCase();

/** Whether a CI person is this ServiceNow approver, and by which identity. */
function matchOf(sod: SeparationOfDuties, person: Person, approver: Approver): string | undefined {
  for (const id of [person.login, person.email]) {
    const mapped = id ? sod.identities[id] : undefined;
    if (mapped && same(mapped, approver.userName)) return `${id} is mapped to ${mapped}`;
  }
  if (sod.matchBy.includes('email') && same(person.email, approver.email))
    return `same e-mail ${approver.email}`;
  if (sod.matchBy.includes('userName') && same(person.login, approver.userName))
    return `same user name ${approver.userName}`;
  return undefined;
}

/**
 * Why the approvers may not release this gate, or undefined. Pure: the gate machine calls it
 * with the approvers read once at the approval.
 */
export function separationViolation(
  sod: SeparationOfDuties,
  gate: Pick<GateRegisteredData, 'people' | 'environment'>,
  approvers: Approver[],
): string | undefined {
  if (!separationApplies(sod, gate.environment)) return undefined;
  for (const approver of approvers) {
    const who = approver.userName ?? approver.sysId;
    if (sod.integrationUsers.some((u) => same(u, approver.userName)))
      return `separation of duties: ${who} approved, and is changegate's own ServiceNow user`;
    for (const [key, role] of Object.entries(ROLES)) {
      const person = gate.people?.[key as keyof typeof ROLES];
      const how = person ? matchOf(sod, person, approver) : undefined;
      if (how)
        return `separation of duties: ${who} approved, and is the deployment's ${role} (${how})`;
    }
  }
  return undefined;
}
