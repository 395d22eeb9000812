import { describe, expect, it } from 'vitest';
import { GatePolicySchema } from '../../../src/config/changes.js';
import { GatePredecidedDataSchema, type GatePredecidedData } from '../../../src/events/gate.js';
import { nextWake, step, type CrState, type StepContext } from '../../../src/gate/machine.js';
import { CrStateSchema } from '../../../src/gate/state.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const CORRELATION = 'generic/ship/acme/payments/stg-1';

const ctx = (now = T0): StepContext => ({
  now,
  policyOf: () => GatePolicySchema.parse({ timeoutMinutes: 60 }),
});

/** A gate the change worker decided at the request: no CR, keyed by its correlation id. */
function predecided(overrides: Partial<GatePredecidedData> = {}): GatePredecidedData {
  return GatePredecidedDataSchema.parse({
    gateId: 'gate-stg-1',
    provider: 'generic',
    project: 'acme/payments',
    environment: 'staging',
    deploymentId: 'stg-1',
    correlationId: CORRELATION,
    callback: { kind: 'generic', url: 'https://ci.example/gates/stg-1', params: {} },
    registeredAt: new Date(T0).toISOString(),
    decided: { outcome: 'released', reason: 'staging is not change-controlled' },
    ...overrides,
  });
}

/** Run a step, then answer its callback as the CI system would (once). */
function decide(previous: CrState | undefined, gate: GatePredecidedData, now = T0) {
  const first = step(previous, { kind: 'predecided', gate }, ctx(now));
  const answered = first.effects.some((e) => e.kind === 'callback')
    ? step(
        first.state,
        { kind: 'callback-done', gateId: gate.gateId, status: 'done', httpStatus: 200 },
        ctx(now + 50),
      )
    : undefined;
  return { first, answered };
}

describe('a gate decided by the change worker', () => {
  it('asks for one callback at once, then reports the decision', () => {
    const { first, answered } = decide(undefined, predecided());
    expect(first.effects).toEqual([
      {
        kind: 'callback',
        gateId: 'gate-stg-1',
        outcome: 'released',
        decision: 'approve',
        reason: 'staging is not change-controlled',
      },
    ]);
    // Keyed by the correlation id: there is no CR.
    expect(first.state.number).toBe(CORRELATION);
    expect(first.state.gates['gate-stg-1']).toMatchObject({ status: 'deciding' });
    expect(answered?.effects).toEqual([
      {
        kind: 'decided',
        gateId: 'gate-stg-1',
        outcome: 'released',
        reason: 'staging is not change-controlled',
        callback: 'done',
        httpStatus: 200,
      },
    ]);
    expect(answered?.state.gates['gate-stg-1']?.status).toBe('released');
    expect(nextWake(answered!.state)).toBeUndefined();
  });

  it('rejects a refused link on the CR it named, with the reason', () => {
    const gate = predecided({
      changeNumber: 'CHG0040001',
      changeSysId: 'sys-40001',
      decided: { outcome: 'rejected', reason: 'refused named by the pipeline (CHG0040001): taken' },
    });
    const { first } = decide(undefined, gate);
    expect(first.state.number).toBe('CHG0040001');
    expect(first.effects).toEqual([
      expect.objectContaining({ kind: 'callback', outcome: 'rejected', decision: 'reject' }),
    ]);
  });

  it('emits nothing when the same request is delivered again after the decision', () => {
    const { answered } = decide(undefined, predecided());
    const again = step(answered!.state, { kind: 'predecided', gate: predecided() }, ctx(T0 + 1000));
    expect(again.effects).toEqual([]);
    expect(again.state.gates['gate-stg-1']?.status).toBe('released');
  });

  it('does not call again on redelivery while its callback is in flight', () => {
    const first = step(undefined, { kind: 'predecided', gate: predecided() }, ctx());
    const again = step(first.state, { kind: 'predecided', gate: predecided() }, ctx(T0 + 1000));
    expect(again.effects).toEqual([]);
  });

  it('calls again after an unreachable round, from its persisted state', () => {
    const first = step(undefined, { kind: 'predecided', gate: predecided() }, ctx());
    const failed = step(
      first.state,
      { kind: 'callback-failed', gateId: 'gate-stg-1', error: 'ECONNREFUSED' },
      ctx(T0 + 100),
    );
    // Restored from the changelog as any gate state is.
    const restored = CrStateSchema.parse(JSON.parse(JSON.stringify(failed.state)));
    const wake = nextWake(restored)!;
    const retried = step(restored, { kind: 'tick' }, ctx(wake));
    expect(retried.effects.filter((e) => e.kind === 'callback')).toHaveLength(1);
  });

  it('never leaves a waiting gate behind, whatever CR updates follow', () => {
    const gate = predecided({
      changeNumber: 'CHG0040001',
      changeSysId: 'sys-40001',
      decided: { outcome: 'rejected', reason: 'refused' },
    });
    const { answered } = decide(undefined, gate);
    const update = step(
      answered!.state,
      {
        kind: 'change',
        change: {
          sysId: 'sys-40001',
          number: 'CHG0040001',
          state: '-2',
          approval: 'approved',
          fields: {},
          modCount: 9,
        },
      },
      ctx(T0 + 5000),
    );
    expect(update.effects.filter((e) => e.kind === 'callback' || e.kind === 'decided')).toEqual([]);
    expect(update.state.gates['gate-stg-1']?.status).toBe('rejected');
  });
});
