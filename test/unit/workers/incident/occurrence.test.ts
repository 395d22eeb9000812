import { describe, expect, it } from 'vitest';
import { IncidentsSchema } from '../../../../src/config/incident.js';
import { PayloadError } from '../../../../src/errors.js';
import type { CloudEvent } from '../../../../src/events/envelope.js';
import {
  descriptionOf,
  eventMarker,
  repeatNoteOf,
  shortDescriptionOf,
} from '../../../../src/workers/incident/describe.js';
import { keyedSerial } from '../../../../src/workers/incident/keyed-serial.js';
import { fingerprintOf, occurrenceOf } from '../../../../src/workers/incident/occurrence.js';
import { resolveIncidentPolicy } from '../../../../src/workers/incident/policy.js';

const raw = { truncated: false, bytes: 2, payload: {} };

function event(type: string, data: Record<string, unknown>, id = 'evt-1'): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/test',
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

const pipelineFailed = (extra: Record<string, unknown> = {}) =>
  event('dev.changegate.pipeline.failed', {
    provider: 'github',
    project: 'acme/payments',
    event: 'workflow_run',
    deliveryId: 'd-1',
    raw,
    run: { id: '77', url: 'https://github.com/acme/payments/actions/runs/77', attempt: 2 },
    pipeline: 'CI',
    status: 'failed',
    commit: { sha: '0123456789abcdef', ref: 'refs/heads/main', message: 'Fix rounding\n\nbody' },
    actor: 'octocat',
    failures: [
      { name: 'unit-tests', url: 'https://github.com/acme/payments/actions/runs/77/job/1' },
    ],
    ...extra,
  });

describe('incident fingerprints', () => {
  it('names provider, project, pipeline and kind, whatever the run', () => {
    const a = occurrenceOf(pipelineFailed())!;
    const b = occurrenceOf(pipelineFailed({ run: { id: '78' } }))!;
    expect(a.fingerprint).toBe('github/acme/payments/CI/pipeline');
    expect(b.fingerprint).toBe(a.fingerprint);
  });

  it('uses the environment for deployments, so a success of the same environment matches', () => {
    const data = {
      provider: 'gitlab',
      project: 'grp/api',
      event: 'Deployment Hook',
      deliveryId: 'd',
      raw,
      environment: 'production',
      deploymentId: '9',
      correlationId: 'gitlab/grp/api/9',
    };
    const failed = occurrenceOf(event('dev.changegate.deployment.failed', data))!;
    const ok = occurrenceOf(
      event('dev.changegate.deployment.succeeded', { ...data, deploymentId: '10' }),
    )!;
    expect(failed.fingerprint).toBe('gitlab/grp/api/production/deployment');
    expect(ok.fingerprint).toBe(failed.fingerprint);
    expect(ok.outcome).toBe('succeeded');
    expect(failed.correlationId).toBe('gitlab/grp/api/9');
  });

  it('keeps fingerprints queryable: no carets, at most 100 characters, distinct when long', () => {
    const long1 = fingerprintOf('pipeline', 'generic', 'x'.repeat(120), 'a^b');
    const long2 = fingerprintOf('pipeline', 'generic', 'x'.repeat(120), 'a^c');
    expect(long1.length).toBeLessThanOrEqual(100);
    expect(long1).not.toContain('^');
    expect(long1).not.toBe(long2);
    expect(fingerprintOf('pipeline', 'github', 'o/r', 'a^b')).toBe('github/o/r/a_b/pipeline');
  });

  it('ignores event types that are no pipeline or deployment outcome', () => {
    expect(occurrenceOf(event('dev.changegate.deployment.requested', {}))).toBeUndefined();
  });

  it('rejects schema-invalid data with a PayloadError naming the field', () => {
    expect(() => occurrenceOf(pipelineFailed({ pipeline: '' }))).toThrow(PayloadError);
    expect(() => occurrenceOf(pipelineFailed({ pipeline: '' }))).toThrow(/pipeline/);
  });
});

describe('incident texts', () => {
  it('says what failed, where, the commit, the run link and the failing jobs', () => {
    const o = occurrenceOf(pipelineFailed())!;
    expect(shortDescriptionOf(o)).toBe('Pipeline "CI" of acme/payments failed on main');
    const text = descriptionOf(o);
    expect(text).toContain('Where: github acme/payments');
    expect(text).toContain('Commit: 0123456789abcdef (refs/heads/main) "Fix rounding"');
    expect(text).toContain(
      'Run: https://github.com/acme/payments/actions/runs/77 (run 77, attempt 2)',
    );
    expect(text).toContain('- unit-tests https://github.com/acme/payments/actions/runs/77/job/1');
    expect(text).toContain('Fingerprint: github/acme/payments/CI/pipeline');
  });

  it('writes the count and the event marker into a repeat note', () => {
    const o = occurrenceOf(pipelineFailed())!;
    const note = repeatNoteOf(o, 7, 'evt-42');
    expect(note.startsWith('changegate: failed again (7 times).')).toBe(true);
    expect(note).toContain(eventMarker('evt-42'));
    expect(eventMarker('a^b]c')).toBe('[changegate event a_b_c]');
  });
});

describe('incident policies', () => {
  const { policies } = IncidentsSchema.parse({
    policies: [
      { name: 'prod', match: { environment: 'prod*' }, on: ['deployment.failed'] },
      { name: 'ci', match: { project: 'acme/*' }, on: ['pipeline.failed'] },
    ],
  });

  it('files for the kinds the first matching policy lists', () => {
    const base = { provider: 'github', project: 'acme/payments' };
    expect(
      resolveIncidentPolicy(policies, { ...base, environment: 'production', kind: 'deployment' })
        ?.name,
    ).toBe('prod');
    expect(
      resolveIncidentPolicy(policies, { ...base, environment: '', kind: 'pipeline' })?.name,
    ).toBe('ci');
    // the first match (prod) does not file for pipelines: nothing
    expect(
      resolveIncidentPolicy(policies, { ...base, environment: 'production', kind: 'pipeline' }),
    ).toBeUndefined();
    expect(
      resolveIncidentPolicy(policies, {
        ...base,
        project: 'other/x',
        environment: 'dev',
        kind: 'pipeline',
      }),
    ).toBeUndefined();
  });

  it('defaults to failed production deployments, a 24 h window and resolving on success', () => {
    const [p] = IncidentsSchema.parse({}).policies;
    expect(p).toMatchObject({
      on: ['deployment.failed'],
      repeatWindowMinutes: 1440,
      resolveOnSuccess: true,
      countField: 'u_changegate_failures',
      changeField: 'caused_by',
    });
  });
});

describe('keyedSerial', () => {
  it('runs tasks of one key one at a time and other keys alongside', async () => {
    const serial = keyedSerial();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}:end`);
    };
    await Promise.all([
      serial('a', task('a1', 20)),
      serial('a', task('a2', 1)),
      serial('b', task('b1', 1)),
    ]);
    expect(log.indexOf('a1:end')).toBeLessThan(log.indexOf('a2:start'));
    expect(log.indexOf('b1:end')).toBeLessThan(log.indexOf('a1:end'));
  });

  it('keeps going after a task of the key failed', async () => {
    const serial = keyedSerial();
    await expect(serial('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(serial('k', () => Promise.resolve(3))).resolves.toBe(3);
  });
});
