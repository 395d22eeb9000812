/**
 * ServiceNow instance emulator for tests, the demo and benchmarks: real HTTP, platform-like
 * semantics from a table dictionary (Table, Change Management, Attachment, Batch,
 * identifyreconcile, OAuth; approvals as sysapproval_approver records), outbound
 * business rules signed with Standard Webhooks, and fault injection.
 *
 * @module
 */
export { startServiceNowSandbox } from './server.js';
export type { ServiceNowSandbox, ServiceNowSandboxOptions } from './server.js';
export { registerSandboxCommands, DEFAULT_CLI_PORT } from './cli.js';
/** The user the sandbox accepts unless `users` is given: `changegate.integration` / `changegate`. */
export { DEFAULT_USER } from './auth.js';
export { DEFAULT_TEMPLATES } from './admin.js';
export type { ApproveOptions, SandboxAdmin } from './admin.js';
/** The approvers every sandbox has (`tech.approver`, `cab.approver`) and the stage config. */
export { APPROVER_USERS, DEFAULT_APPROVERS } from './approvals.js';
export type { ApproverConfig } from './approvals.js';
/** Extra tables/columns (custom `u_` fields) for the `dictionary` option. */
export type { ColumnInput, DictionaryExtension } from './dictionary.js';
/** The install kit's rule: fields sent and trigger fields (for the `outboundRules` option). */
export { DEFAULT_EXTRA_FIELDS, KNOWN_FIELDS, TRIGGER_FIELDS } from './business-rules.js';
export type { RuleConfig } from './business-rules.js';
/** Records, users, faults and outbound/request logs. */
export type {
  ActiveFault,
  ChangeTemplate,
  FaultControl,
  FaultKind,
  FaultSpec,
  OutboundRecord,
  OutboundTarget,
  RequestLogEntry,
  SandboxUser,
  SnRecord,
} from './types.js';
