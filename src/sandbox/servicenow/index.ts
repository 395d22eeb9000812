/**
 * ServiceNow instance emulator for tests, the demo and benchmarks: real HTTP, platform-like
 * semantics (Table, Change Management, Attachment, identifyreconcile, OAuth), outbound
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
export type { SandboxAdmin } from './admin.js';
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
