import { z } from 'zod';
import type { CloudEvent } from '../events/envelope.js';
import { STATE } from '../gate/rules.js';
import type { ChangeActivity } from './status-source.js';

const STATE_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(STATE).map(([name, value]) => [value, name]),
);

/** "-3" → "authorize (-3)"; what ServiceNow stores, with the name people know. */
export function stateName(state: string | undefined): string {
  if (state === undefined) return 'unknown';
  const name = STATE_NAMES[state];
  return name ? `${name} (${state})` : state;
}

const ChangeUpdatedSchema = z.object({
  number: z.string(),
  state: z.string().optional(),
  approval: z.string().optional(),
});
const GateRegisteredSchema = z.object({
  changeNumber: z.string(),
  provider: z.string(),
  project: z.string(),
  environment: z.string(),
});
const GateDecidedSchema = z.object({ changeNumber: z.string(), reason: z.string() });
const ChangeActionSchema = z.object({
  changeNumber: z.string(),
  correlationId: z.string(),
  action: z.string(),
  detail: z.string().optional(),
});

/** One line a person reads for each kind of change event; undefined for what it cannot read. */
export function summarise(event: CloudEvent): ChangeActivity | undefined {
  const kind = event.type.replace(/^dev\.changegate\./, '');
  const base = { id: event.id, at: event.time, kind };
  if (kind === 'change.updated') {
    const d = ChangeUpdatedSchema.safeParse(event.data);
    if (!d.success) return undefined;
    return {
      ...base,
      changeNumber: d.data.number,
      summary: `ServiceNow: state ${stateName(d.data.state)}, approval ${d.data.approval ?? 'unknown'}`,
    };
  }
  if (kind === 'gate.registered') {
    const d = GateRegisteredSchema.safeParse(event.data);
    if (!d.success) return undefined;
    return {
      ...base,
      changeNumber: d.data.changeNumber,
      summary: `${d.data.provider} deployment of ${d.data.project} to ${d.data.environment} waits on it`,
    };
  }
  if (kind.startsWith('gate.')) {
    const d = GateDecidedSchema.safeParse(event.data);
    if (!d.success) return undefined;
    return { ...base, changeNumber: d.data.changeNumber, summary: d.data.reason };
  }
  if (kind.startsWith('change.')) {
    const d = ChangeActionSchema.safeParse(event.data);
    if (!d.success) return undefined;
    return {
      ...base,
      changeNumber: d.data.changeNumber,
      summary: `${d.data.action} for ${d.data.correlationId}${d.data.detail ? ` (${d.data.detail})` : ''}`,
    };
  }
  return undefined;
}
