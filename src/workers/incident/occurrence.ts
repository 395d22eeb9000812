import { createHash } from 'node:crypto';
import { PayloadError } from '../../errors.js';
import { DeploymentDataSchema, PipelineDataSchema } from '../../events/cicd.js';
import type { CloudEvent } from '../../events/envelope.js';

/** What failed or succeeded: a pipeline run or a deployment. */
export type OccurrenceKind = 'pipeline' | 'deployment';

/** One pipeline/deployment outcome, in the terms the incident worker reasons about. */
export interface Occurrence {
  kind: OccurrenceKind;
  outcome: 'failed' | 'succeeded';
  provider: string;
  project: string;
  /** '' for a pipeline that names no environment. */
  environment: string;
  /** The pipeline name, or the environment of a deployment: what "the same thing" means. */
  target: string;
  fingerprint: string;
  run?: {
    id: string;
    url?: string | undefined;
    name?: string | undefined;
    attempt?: number | undefined;
  };
  commit: { sha?: string | undefined; ref?: string | undefined; message?: string | undefined };
  actor?: string | undefined;
  changeNumber?: string | undefined;
  /** The deployment's correlation id: the CR the change worker created carries it. */
  correlationId?: string | undefined;
  failures: Array<{ name: string; url?: string | undefined }>;
}

const TYPES = {
  'dev.changegate.pipeline.failed': ['pipeline', 'failed'],
  'dev.changegate.pipeline.succeeded': ['pipeline', 'succeeded'],
  'dev.changegate.deployment.failed': ['deployment', 'failed'],
  'dev.changegate.deployment.succeeded': ['deployment', 'succeeded'],
} as const satisfies Readonly<Record<string, [OccurrenceKind, Occurrence['outcome']]>>;

/** The event types an occurrence is made of. */
export const OCCURRENCE_TYPES = Object.keys(TYPES) as (keyof typeof TYPES)[];

/** ServiceNow's correlation_id holds 100 characters and goes into encoded queries. */
const MAX_ID = 100;

/**
 * `<provider>/<project>/<pipeline-or-environment>/<kind>`: every failure of one pipeline (or of
 * deployments to one environment) shares it, whatever the run. Characters an encoded query
 * would read as syntax are replaced; an over-long one keeps its head and a hash of the whole.
 */
export function fingerprintOf(
  kind: OccurrenceKind,
  provider: string,
  project: string,
  target: string,
): string {
  const full = `${provider}/${project}/${target}/${kind}`.replace(/[\^\r\n]/g, '_');
  if (full.length <= MAX_ID) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 16);
  return `${full.slice(0, MAX_ID - 17)}#${digest}`;
}

/**
 * The occurrence an event describes, or undefined for types the incident worker ignores.
 * @throws PayloadError when the data does not match the schema of its type.
 */
export function occurrenceOf(event: CloudEvent): Occurrence | undefined {
  if (!Object.hasOwn(TYPES, event.type)) return undefined;
  const mapped = TYPES[event.type as keyof typeof TYPES];
  const [kind, outcome] = mapped;
  const schema = kind === 'pipeline' ? PipelineDataSchema : DeploymentDataSchema;
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new PayloadError(
      'schema_mismatch',
      `[changegate/workers/incident] ${event.type} ${event.id}: ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
      { cause: parsed.error },
    );
  }
  const d = parsed.data;
  const common = {
    kind,
    outcome,
    provider: d.provider,
    project: d.project,
    commit: d.commit,
    actor: d.actor,
    changeNumber: d.changeNumber,
    ...(d.run ? { run: d.run } : {}),
  };
  if ('pipeline' in d) {
    const environment = d.environment ?? '';
    return {
      ...common,
      environment,
      target: d.pipeline,
      fingerprint: fingerprintOf(kind, d.provider, d.project, d.pipeline),
      failures: d.failures,
    };
  }
  return {
    ...common,
    environment: d.environment,
    target: d.environment,
    fingerprint: fingerprintOf(kind, d.provider, d.project, d.environment),
    correlationId: d.correlationId,
    failures: [],
  };
}
