import type { z } from 'zod';
import {
  DeploymentDataSchema,
  PipelineDataSchema,
  TestReportedDataSchema,
  WebhookReceivedDataSchema,
} from './cicd.js';
import { ChangeUpdatedDataSchema, RecordUpdatedDataSchema } from './servicenow.js';
import {
  ChangeActionDataSchema,
  GateDecidedDataSchema,
  GatePredecidedDataSchema,
  GateRegisteredDataSchema,
} from './gate.js';

/** Logical topics; the names on the broker come from config (`kafka.topics`). */
export type TopicName = 'cicd' | 'changes' | 'servicenow' | 'gateState' | 'audit' | 'dlq';

/**
 * Every event type changegate publishes, its data schema and its topic. The JSON Schemas in
 * `schemas/` and the AsyncAPI document are generated from this table.
 */
export const EVENT_TYPES = {
  'dev.changegate.deployment.requested': { schema: DeploymentDataSchema, topic: 'cicd' },
  'dev.changegate.deployment.started': { schema: DeploymentDataSchema, topic: 'cicd' },
  'dev.changegate.deployment.succeeded': { schema: DeploymentDataSchema, topic: 'cicd' },
  'dev.changegate.deployment.failed': { schema: DeploymentDataSchema, topic: 'cicd' },
  'dev.changegate.pipeline.succeeded': { schema: PipelineDataSchema, topic: 'cicd' },
  'dev.changegate.pipeline.failed': { schema: PipelineDataSchema, topic: 'cicd' },
  'dev.changegate.test.reported': { schema: TestReportedDataSchema, topic: 'cicd' },
  'dev.changegate.webhook.received': { schema: WebhookReceivedDataSchema, topic: 'cicd' },
  'dev.changegate.change.updated': { schema: ChangeUpdatedDataSchema, topic: 'changes' },
  'dev.changegate.record.updated': { schema: RecordUpdatedDataSchema, topic: 'servicenow' },
  'dev.changegate.gate.registered': { schema: GateRegisteredDataSchema, topic: 'changes' },
  'dev.changegate.gate.predecided': { schema: GatePredecidedDataSchema, topic: 'changes' },
  'dev.changegate.gate.released': { schema: GateDecidedDataSchema, topic: 'changes' },
  'dev.changegate.gate.rejected': { schema: GateDecidedDataSchema, topic: 'changes' },
  'dev.changegate.gate.expired': { schema: GateDecidedDataSchema, topic: 'changes' },
  'dev.changegate.change.created': { schema: ChangeActionDataSchema, topic: 'changes' },
  'dev.changegate.change.linked': { schema: ChangeActionDataSchema, topic: 'changes' },
  'dev.changegate.change.implementing': { schema: ChangeActionDataSchema, topic: 'changes' },
  'dev.changegate.change.closed': { schema: ChangeActionDataSchema, topic: 'changes' },
  'dev.changegate.change.left-implement': { schema: ChangeActionDataSchema, topic: 'changes' },
} as const satisfies Record<string, { schema: z.ZodType; topic: TopicName }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_TYPES)[T]['schema']>;

/** The four deployment lifecycle types every CI provider maps onto. */
export type DeploymentEventType = Extract<EventType, `dev.changegate.deployment.${string}`>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_TYPES, type);
}
