import type { Occurrence } from './occurrence.js';

const MAX_SHORT = 160;

/** Template variables of an occurrence (`{{project}}`, `{{target}}`, `{{commit.short}}`, …). */
export function occurrenceVars(o: Occurrence): Record<string, unknown> {
  return {
    ...o,
    pipeline: o.kind === 'pipeline' ? o.target : (o.run?.name ?? ''),
    ref: o.commit.ref ?? '',
    commit: { ...o.commit, short: o.commit.sha?.slice(0, 7) ?? '' },
    run: o.run ?? {},
    actor: o.actor ?? '',
  };
}

/** "the deployment of acme/api to production" / "pipeline "CI" of acme/api". */
export function whatOf(o: Occurrence): string {
  return o.kind === 'deployment'
    ? `the deployment of ${o.project} to ${o.environment}`
    : `pipeline "${o.target}" of ${o.project}${o.environment ? ` (${o.environment})` : ''}`;
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The incident's short description: what failed, where, on which ref. */
export function shortDescriptionOf(o: Occurrence): string {
  const ref = o.commit.ref?.replace(/^refs\/(heads|tags)\//, '');
  return `${sentence(whatOf(o))} failed${ref ? ` on ${ref}` : ''}`.slice(0, MAX_SHORT);
}

function commitLine(o: Occurrence): string | undefined {
  const { sha, ref, message } = o.commit;
  if (!sha && !ref) return undefined;
  const subject = message?.split('\n')[0];
  return `Commit: ${sha ?? '(unknown)'}${ref ? ` (${ref})` : ''}${subject ? ` "${subject}"` : ''}`;
}

function runLine(o: Occurrence): string | undefined {
  if (!o.run) return undefined;
  const attempt = o.run.attempt && o.run.attempt > 1 ? `, attempt ${o.run.attempt}` : '';
  return `Run: ${o.run.url ?? o.run.id} (run ${o.run.id}${attempt})`;
}

/** Failing jobs/tests as list lines, when the provider told which. */
export function failureLines(o: Occurrence): string[] {
  return o.failures.map((f) => `- ${f.name}${f.url ? ` ${f.url}` : ''}`);
}

/** The incident's description: everything an on-call engineer needs to start. */
export function descriptionOf(o: Occurrence): string {
  const lines = [
    `changegate: ${whatOf(o)} failed.`,
    `Where: ${o.provider} ${o.project}${o.environment ? `, environment ${o.environment}` : ''}`,
    commitLine(o),
    runLine(o),
    o.actor ? `Triggered by: ${o.actor}` : undefined,
    o.failures.length > 0 ? `Failing jobs/tests:\n${failureLines(o).join('\n')}` : undefined,
    `Fingerprint: ${o.fingerprint}`,
    'Repeat failures are counted in work notes on this incident; the next success resolves it when the policy says so.',
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n');
}

/** A journal marker that names one CloudEvent: how a redelivery is recognised. */
export function eventMarker(eventId: string): string {
  return `${EVENT_MARKER_PREFIX}${eventId.replace(/[\^\r\n\]]/g, '_')}]`;
}

/** What every failure note's marker starts with: counting them counts the failures. */
export const EVENT_MARKER_PREFIX = '[changegate event ';

/** The work note of the Nth failure (N ≥ 2), ending with the event's marker. */
export function repeatNoteOf(o: Occurrence, count: number, eventId: string): string {
  const lines = [
    `changegate: failed again (${count} times).`,
    commitLine(o),
    runLine(o),
    o.failures.length > 0 ? `Failing jobs/tests:\n${failureLines(o).join('\n')}` : undefined,
    eventMarker(eventId),
  ];
  return lines.filter((l): l is string => l !== undefined).join('\n');
}

/** The work note written with the incident itself, so its first event is recognised too. */
export function firstNoteOf(eventId: string): string {
  return `changegate: failure recorded (1 time). ${eventMarker(eventId)}`;
}
