/**
 * Base identification rules of the Identification and Reconciliation engine, as far as the
 * sandbox models them (pure data + lookup).
 *
 * Sources (ServiceNow/ServiceNowDocs):
 * - server-api-reference/IdentificationEngineScopedAPI.md, "Identify a dependent CI": a
 *   `cmdb_ci_web_server` (an application) is sent with `running_process_command`,
 *   `running_process_key_parameters` and `tcp_port`, and a `Runs on::Runs` relation to a
 *   `cmdb_ci_linux_server`; the server is identified by the "Hardware Rule" attempts
 *   serial_number+serial_number_type (cmdb_serial_number), serial_number, name
 *   (cmdb_ci_hardware), mac_address+name (cmdb_ci_network_adapter).
 * - rest-apis/c_IdentifyReconcileAPI.md: `attemptResult` MATCHED / MULTI_MATCH / NO_MATCH /
 *   SKIPPED, `identifierEntrySysId` and `sysId` "Unknown" when identification failed.
 * Unverified: the exact identifier entries of the Application rule (the sandbox takes the
 * running-process pair, then tcp_port, both within the host the app runs on), the rules for
 * cmdb_ci_service (name), cmdb_ci_docker_image (image_id), cmdb_ci_os_template /
 * cmdb_ci_cloud_os_image (object_id, then name), and the error messages' wording.
 *
 * @module
 */
import type { Dictionary } from './dictionary.js';

export interface IdentifierEntry {
  /** Table searched (`searchOnTable`); a table the sandbox lacks is always SKIPPED. */
  table: string;
  attributes: string[];
}

export interface IdentificationRule {
  name: string;
  /** A dependent class is identified within the CI it depends on (`Runs on::Runs` host). */
  dependsOn?: { relation: string; parentClass: string };
  entries: IdentifierEntry[];
}

const HARDWARE: IdentificationRule = {
  name: 'Hardware Rule',
  entries: [
    { table: 'cmdb_serial_number', attributes: ['serial_number', 'serial_number_type'] },
    { table: 'cmdb_ci_hardware', attributes: ['serial_number'] },
    { table: 'cmdb_ci_hardware', attributes: ['name'] },
    { table: 'cmdb_ci_network_adapter', attributes: ['mac_address', 'name'] },
  ],
};

const APPLICATION: IdentificationRule = {
  name: 'Application Rule',
  dependsOn: { relation: 'Runs on::Runs', parentClass: 'cmdb_ci_hardware' },
  entries: [
    {
      table: 'cmdb_ci_appl',
      attributes: ['running_process_command', 'running_process_key_parameters'],
    },
    { table: 'cmdb_ci_appl', attributes: ['tcp_port'] },
  ],
};

const BY_CLASS: readonly [string, IdentificationRule][] = [
  ['cmdb_ci_hardware', HARDWARE],
  ['cmdb_ci_appl', APPLICATION],
  [
    'cmdb_ci_service',
    { name: 'Service Rule', entries: [{ table: 'cmdb_ci_service', attributes: ['name'] }] },
  ],
  [
    'cmdb_ci_docker_image',
    {
      name: 'Docker Image Rule',
      entries: [{ table: 'cmdb_ci_docker_image', attributes: ['image_id'] }],
    },
  ],
  [
    'cmdb_ci_os_template',
    {
      name: 'OS Template Rule',
      entries: [
        { table: 'cmdb_ci_os_template', attributes: ['object_id'] },
        { table: 'cmdb_ci_os_template', attributes: ['name'] },
      ],
    },
  ],
  [
    'cmdb_ci_cloud_os_image',
    {
      name: 'Cloud OS Image Rule',
      entries: [
        { table: 'cmdb_ci_cloud_os_image', attributes: ['object_id'] },
        { table: 'cmdb_ci_cloud_os_image', attributes: ['name'] },
      ],
    },
  ],
];

/** Relation types a base instance has (cmdb_rel_type name = `parent descriptor::child descriptor`). */
export const BASE_RELATION_TYPES = [
  'Runs on::Runs',
  'Depends on::Used by',
  'Uses::Used by',
  'Contains::Contained by',
  'Hosted on::Hosts',
  'Members::Member of',
  'Cluster of::Cluster',
  'Virtualized by::Virtualizes',
  'Connects to::Connected by',
] as const;

/**
 * The rule that identifies `className`: the nearest ancestor's base rule, or one built from
 * `overrides` (the sandbox option `identificationRules`, attributes on the class itself).
 * Undefined when the class has no identification rule.
 */
export function ruleFor(
  dictionary: Dictionary,
  className: string,
  overrides: Record<string, string[]>,
): IdentificationRule | undefined {
  const override = overrides[className];
  if (override) {
    return { name: `${className} rule`, entries: [{ table: className, attributes: override }] };
  }
  return BY_CLASS.find(([base]) => dictionary.isA(className, base))?.[1];
}
