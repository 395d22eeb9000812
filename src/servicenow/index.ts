/**
 * ServiceNow client: named connections, typed errors, doctor.
 *
 * @module
 */
export { createServiceNowClient } from './client.js';
export type { ServiceNowClient, ServiceNowClientOptions } from './client.js';
export { createServiceNowClients } from './connections.js';
export type { ServiceNowClients } from './connections.js';
export { ServiceNowError } from './errors.js';
export type { ServiceNowErrorKind } from './errors.js';
export type { ServiceNowCall, ServiceNowMetrics } from './context.js';
export type { SnRecord } from './flatten.js';
export type { TableApi, QueryOptions, ReadOptions, CreateOptions } from './table.js';
export type { ChangeApi, ChangeType, ApprovalDecision } from './change.js';
export type { AttachmentApi, UploadOptions } from './attachment.js';
export type { CmdbApi, CmdbItem, CmdbRelation, ReconcileResult } from './cmdb.js';
export { CHANGE_STATE, parseNextStates, stateLabel } from './change-lifecycle.js';
export type {
  ChangeLifecycle,
  StandardCreate,
  StandardCreated,
  WalkOutcome,
  WalkResult,
} from './change-lifecycle.js';
export { runDoctor } from './doctor.js';
export type { DoctorOptions } from './doctor.js';
