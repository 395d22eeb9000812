/**
 * The CMDB classes changegate registers or relates to, with what their base identification rule
 * needs, so a policy the instance's IRE would refuse is refused at start-up instead.
 *
 * Sources: ServiceNowDocs markdown/api-reference/rest-apis/c_IdentifyReconcileAPI.md
 * (identifyreconcile payload, MISSING_DEPENDENCY / MISSING_MATCHING_ATTRIBUTES errors) and
 * servicenow-platform/configuration-management-database-cmdb (c_IdentificationRules.md:
 * independent vs dependent rules; c_ServiceRulesMetadata.md: hosting rules, the example
 * "Application — Runs on::Runs — Hardware"). The exact identifier entries of each base rule are
 * not listed in those pages; the attribute sets below are the ones the base rules are known to
 * use and are marked where unverified.
 *
 * @module
 */

export interface ClassRule {
  label: string;
  /** Identifier entries: the CI is identified when every attribute of one set has a value. */
  identifiers: string[][];
  /** Dependent rule: the CI is identified together with a host it `Runs on`. */
  hostedOn?: { type: string; classes: readonly string[] };
  /** Attribute defaults changegate fills (templates), so the rule is satisfied out of the box. */
  defaults?: Record<string, string>;
}

/** Hardware and its subclasses, identified by name among their identifier entries. */
export const HOST_CLASSES = [
  'cmdb_ci_hardware',
  'cmdb_ci_computer',
  'cmdb_ci_server',
  'cmdb_ci_linux_server',
  'cmdb_ci_win_server',
  'cmdb_ci_unix_server',
  'cmdb_ci_esx_server',
] as const;

const named = (label: string): ClassRule => ({ label, identifiers: [['name']] });

export const CMDB_CLASSES: Readonly<Record<string, ClassRule>> = {
  // Application: a dependent rule (hosting rule Application Runs on::Runs Hardware,
  // c_ServiceRulesMetadata.md), identified by its running process on that host.
  cmdb_ci_appl: {
    label: 'Application',
    identifiers: [['running_process_command', 'running_process_key_parameters']],
    hostedOn: { type: 'Runs on::Runs', classes: HOST_CLASSES },
    defaults: {
      running_process_command: '{{project}}',
      running_process_key_parameters: 'environment={{environment}}',
    },
  },
  // Container images: cmdb_ci_docker_image exists in the base CMDB; there is no
  // cmdb_ci_os_image (cmdb_ci_os_template and cmdb_ci_cloud_os_image are VM templates).
  // Identifier entry: image_id (unverified; the digest is the stable id of an image).
  cmdb_ci_docker_image: {
    label: 'Docker Image',
    identifiers: [['image_id']],
    defaults: { image_id: '{{project}}:{{version}}', tag: '{{version}}' },
  },
  // Independent rules by name (Hardware has name among its identifier entries; services and
  // clusters: unverified beyond the class existing).
  ...Object.fromEntries(HOST_CLASSES.map((c) => [c, named(c)])),
  cmdb_ci_service: named('Business Service'),
  cmdb_ci_service_auto: named('Application Service'),
  cmdb_ci_service_discovered: named('Mapped Application Service'),
  cmdb_ci_kubernetes_cluster: named('Kubernetes Cluster'),
  cmdb_ci_db_instance: named('Database Instance'),
};

/** Classes that look plausible but do not exist in the base CMDB, with what to use instead. */
export const NOT_BASE_CLASSES: Readonly<Record<string, string>> = {
  cmdb_ci_os_image:
    'cmdb_ci_docker_image (container images), cmdb_ci_os_template or cmdb_ci_cloud_os_image (VM images)',
};

/** Why a class cannot be used, with the fix; undefined when it is a known base class. */
export function unknownClassProblem(className: string): string | undefined {
  if (CMDB_CLASSES[className]) return undefined;
  const instead = NOT_BASE_CLASSES[className];
  if (instead) return `${className} is not a base CMDB class: use ${instead}`;
  return `${className} is not a class changegate knows the identification rule of: use one of ${Object.keys(CMDB_CLASSES).join(', ')}, or declare the attributes its identification rule uses under ci.identifiedBy`;
}
