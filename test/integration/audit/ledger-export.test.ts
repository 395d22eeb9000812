import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditObserver } from '../../../src/audit/observer.js';
import { auditKeyFromConfig } from '../../../src/audit/signing.js';
import { withAuditSigning } from '../../../src/audit/signing-bus.js';
import { createMemoryBus } from '../../../src/bus/memory.js';
import type { ConsumedRecord, Subscription } from '../../../src/bus/port.js';
import { auditExport, type AuditExportResult } from '../../../src/commands/audit-export.js';
import type { LineageSelector } from '../../../src/audit/lineage.js';
import { createLogger } from '../../../src/log.js';
import { startLedgerWorker, type LedgerWorker } from '../../../src/workers/ledger/index.js';
import { runWorker } from '../../../src/workers/runtime/index.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { deploymentData, sendChangegate, theChange } from '../flow/flow-support.js';

const log = createLogger({ level: 'silent' });
let stack: Stack;
let ledger: LedgerWorker;
let observer: Subscription;
let key: Buffer;

beforeAll(async () => {
  stack = await startStack();
  key = auditKeyFromConfig(stack.config);
  ledger = await startLedgerWorker({ bus: stack.bus, config: stack.config, key, log });
  const writer = withAuditSigning(stack.bus, stack.config.kafka.topics.audit, key);
  observer = await runWorker(auditObserver({ config: stack.config, bus: writer }), {
    bus: stack.bus,
    log,
    dlqTopic: stack.config.kafka.topics.dlq,
  });
});
afterAll(async () => {
  await observer?.close();
  await ledger?.close();
  await stack?.close();
});

async function exportOf(
  selector: LineageSelector,
  format: 'json' | 'csv' = 'json',
  bus = stack.bus,
): Promise<AuditExportResult & { out: string; err: string }> {
  let out = '';
  let err = '';
  const result = await auditExport({
    bus,
    ledgerTopic: stack.config.kafka.topics.auditLedger,
    checkpointTopic: stack.config.kafka.topics.auditCheckpoints,
    key,
    selector,
    format,
    write: (t) => (out += t),
    warn: (t) => (err += t),
  });
  return { ...result, out, err };
}

const CORRELATION = 'generic/argo/acme/payments/pay-1';
let number: string;

describe('the audit ledger of one gated deployment', () => {
  beforeAll(async () => {
    const url = stack.ci.generic.pending('audit-wf-1');
    const send = (type: 'requested' | 'started' | 'succeeded') =>
      sendChangegate(
        stack,
        'generic/argo',
        type,
        deploymentData('acme/payments', 'pay-1', { callback: { kind: 'generic', url } }),
      );
    expect(await send('requested')).toBe(202);
    const cr = await theChange(stack, CORRELATION, (r) => r.approval === 'requested');
    number = cr.number!;
    stack.servicenow.admin.approve(number);
    await eventually(() => stack.ci.generic.state('audit-wf-1') === 'released');
    expect(await send('started')).toBe(202);
    await eventually(async () =>
      (await exportOf({ change: number })).rows.some((r) => r.action === 'change.noted'),
    );
    expect(await send('succeeded')).toBe(202);
    await eventually(async () =>
      (await exportOf({ change: number })).rows.some((r) => r.action === 'change.closed'),
    );
  }, 30_000);

  it('exports the lineage in order, with who, what, why, the CR number and the callback result', async () => {
    const { exitCode, rows, err } = await exportOf({ change: number });
    expect(exitCode).toBe(0);
    expect(err).toMatch(/every hash and signature verifies/);
    // What a reviewer reads: printed so the record itself is in the test output.
    console.log(rows.map((r) => `${r.at}  ${r.key}  ${r.action}  ${r.reason}`).join('\n'));
    const story = [
      'deployment.requested.received',
      'change.created',
      'approval.seen',
      'gate.released',
      'deployment.started.received',
      'change.noted',
      'deployment.succeeded.received',
      'change.closed',
    ];
    // The story's steps appear in this order; ServiceNow's other updates (state changes, approval
    // requested) sit between them.
    const steps = rows.filter(
      (r) =>
        story.includes(r.action) &&
        (r.action !== 'approval.seen' || r.detail.approval === 'approved'),
    );
    expect(steps.map((r) => r.action)).toEqual(story);
    const at = rows.map((r) => Date.parse(r.at));
    expect(at).toEqual([...at].sort((a, b) => a - b));

    const row = (action: string) => rows.find((r) => r.action === action)!;
    expect(row('deployment.requested.received')).toMatchObject({
      key: CORRELATION,
      actor: 'changegate/receiver',
      reason: 'deployment requested of acme/payments to production received from generic (by jdoe)',
    });
    expect(row('change.created')).toMatchObject({
      changeNumber: number,
      actor: 'changegate/change',
      correlationId: CORRELATION,
      reason: 'normal change created by policy production',
    });
    expect(steps[2]).toMatchObject({
      changeNumber: number,
      actor: 'servicenow',
      reason: 'ServiceNow reports approval approved (state -2)',
    });
    expect(row('gate.released')).toMatchObject({
      changeNumber: number,
      actor: 'changegate/gate',
      callback: 'done (HTTP 200)',
    });
    expect(row('change.closed').detail).toEqual({ closeCode: 'successful' });
    // Each line once, however often the stream was read.
    expect(new Set(rows.map((r) => r.entryId)).size).toBe(rows.length);
  });

  it('finds the same lineage by correlation id, and writes CSV a spreadsheet can read', async () => {
    const byCorrelation = await exportOf({ correlation: CORRELATION });
    const byChange = await exportOf({ change: number });
    expect(byCorrelation.rows.map((r) => r.entryId)).toEqual(byChange.rows.map((r) => r.entryId));

    const csv = await exportOf({ change: number }, 'csv');
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'at,changeNumber,correlationId,actor,action,reason,callback,key,seq,entryId,hash,detail',
    );
    expect(lines).toHaveLength(byChange.rows.length + 1);
    expect(lines.find((l) => l.includes(',gate.released,'))).toContain(
      `,${number},${CORRELATION},`,
    );
  });

  it('fails naming the entry when an altered copy of a ledger record is published', async () => {
    const topic = stack.config.kafka.topics.auditLedger;
    let original: ConsumedRecord | undefined;
    await stack.bus.readToEnd(topic, (r) => {
      if (r.key === number && r.headers['changegate-audit-action'] === 'gate.released')
        original = r;
    });
    const record = JSON.parse(original!.value!.toString('utf8')) as {
      seq: number;
      entry: { reason: string };
    };
    // Alter an entry in a copy of the whole ledger (what rewriting the topic amounts to) …
    const copy = createMemoryBus();
    const all: ConsumedRecord[] = [];
    await stack.bus.readToEnd(topic, (r) => all.push(r));
    await copy.publish(
      all.map((r) =>
        r.partition === original!.partition && r.offset === original!.offset
          ? {
              ...r,
              value: Buffer.from(
                JSON.stringify({
                  ...record,
                  entry: { ...record.entry, reason: 'approved by CAB' },
                }),
              ),
            }
          : r,
      ),
    );
    const rewritten = await exportOf({ change: number }, 'json', copy);
    expect(rewritten.exitCode).toBe(1);
    expect(rewritten.broken).toMatchObject({ key: number, seq: record.seq });
    expect(rewritten.err).toContain(
      `ledger does not verify at ${number} seq ${record.seq} (entry `,
    );
    expect(rewritten.err).toContain('hash does not match the entry (the entry was altered)');
    expect(JSON.parse(rewritten.out)).toMatchObject({ verified: false });
    await copy.close();

    // … and append an altered copy to the real ledger (all an append-only log allows).
    await stack.bus.publish([
      {
        ...original!,
        value: Buffer.from(
          JSON.stringify({ ...record, entry: { ...record.entry, reason: 'approved by CAB' } }),
        ),
      },
    ]);
    const appended = await exportOf({ change: number });
    expect(appended.exitCode).toBe(1);
    expect(appended.broken?.reason).toMatch(/^sequence \d+ where \d+ was expected$/);
  });
});
