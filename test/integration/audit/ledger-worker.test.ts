import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRecord } from '../../../src/audit/auditor.js';
import {
  checkpointSignatureValid,
  foldCheckpoints,
  type Checkpoint,
} from '../../../src/audit/checkpoint.js';
import { withAuditSigning } from '../../../src/audit/signing-bus.js';
import { verifyChains, type StoredLedgerRecord } from '../../../src/audit/chain.js';
import { createMemoryBus, type MemoryBus } from '../../../src/bus/memory.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { startLedgerWorker, type LedgerWorker } from '../../../src/workers/ledger.js';
import { eventually } from '../../support/stack.js';

const config = ConfigSchema.parse({ bus: 'memory', kafka: { partitions: 3 } });
const { topics } = config.kafka;
const log = createLogger({ level: 'silent' });
const KEY = Buffer.alloc(32, 0x42);

let bus: MemoryBus;
const workers: LedgerWorker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  await bus?.close();
});

async function ledgerRecords(): Promise<StoredLedgerRecord[]> {
  const out: StoredLedgerRecord[] = [];
  await bus.readToEnd(topics.auditLedger, (r) =>
    out.push(JSON.parse(r.value!.toString('utf8')) as StoredLedgerRecord),
  );
  return out;
}

/** What changegate's workers publish through: audit lines signed on the way out. */
const writers = () => withAuditSigning(bus, topics.audit, KEY);

const line = (key: string, n: number) =>
  auditRecord(topics.audit, { id: `${key}#${n}`, key, actor: 'test', action: `step-${n}` });

describe('the audit ledger worker', () => {
  it('chains each key in order, and after a restart neither repeats redelivered lines nor forks', async () => {
    bus = createMemoryBus();
    await writers().publish([1, 2, 3].flatMap((n) => [line('CHG1', n), line('CHG2', n)]));
    workers.push(await startLedgerWorker({ bus, config, key: KEY, log }));
    await eventually(async () => (await ledgerRecords()).length === 6);
    await workers.pop()!.close();

    // A new consumer group reads the audit topic from the start: every line is redelivered.
    const restarted = await startLedgerWorker({
      bus,
      config,
      key: KEY,
      log,
      groupId: 'other-group',
    });
    workers.push(restarted);
    await writers().publish([line('CHG1', 4)]);
    await eventually(async () => (await ledgerRecords()).length === 7);
    await new Promise((r) => setTimeout(r, 100));

    const records = await ledgerRecords();
    expect(records).toHaveLength(7);
    expect(verifyChains(records)).toBeUndefined();
    expect(records.filter((r) => r.key === 'CHG1').map((r) => [r.seq, r.entry.action])).toEqual([
      [1, 'step-1'],
      [2, 'step-2'],
      [3, 'step-3'],
      [4, 'step-4'],
    ]);
    expect(restarted.heads().get('CHG1')?.seq).toBe(4);
  });

  it('dead-letters a record that is not an audit line and goes on with the next', async () => {
    bus = createMemoryBus();
    workers.push(await startLedgerWorker({ bus, config, key: KEY, log }));
    await writers().publish([
      { topic: topics.audit, key: 'CHG9', value: Buffer.from('{"not":"audit"}'), headers: {} },
      line('CHG9', 1),
    ]);
    await eventually(async () => (await ledgerRecords()).length === 1);
    const dead: Record<string, string>[] = [];
    await bus.readToEnd(topics.dlq, (r) => dead.push(r.headers));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      'changegate-worker': 'audit-ledger',
      'changegate-origin-topic': topics.audit,
    });
    expect(dead[0]!['changegate-error']).toMatch(/^not an audit line/);
  });

  it('writes signed checkpoints on a schedule and a last one at shutdown, to the topic and the file', async () => {
    bus = createMemoryBus();
    const file = join(mkdtempSync(join(tmpdir(), 'changegate-ledger-')), 'checkpoint.json');
    const scheduled = ConfigSchema.parse({
      bus: 'memory',
      kafka: { partitions: 3 },
      audit: { checkpointIntervalMs: 50, checkpointFile: file },
    });
    const worker = await startLedgerWorker({ bus, config: scheduled, key: KEY, log });
    const checkpoints = async () => {
      const out: Checkpoint[] = [];
      await bus.readToEnd(topics.auditCheckpoints, (r) =>
        out.push(JSON.parse(r.value!.toString('utf8')) as Checkpoint),
      );
      return out;
    };
    await writers().publish([line('CHG1', 1), line('CHG2', 1)]);
    await eventually(async () => (await checkpoints()).length === 1, 5_000);
    // Nothing moved: the schedule writes nothing more.
    await new Promise((r) => setTimeout(r, 200));
    expect(await checkpoints()).toHaveLength(1);
    await writers().publish([line('CHG1', 2)]);
    await eventually(async () => worker.heads().get('CHG1')?.seq === 2, 5_000);
    await worker.close();
    const all = await checkpoints();
    const folded = foldCheckpoints(KEY, all);
    expect(folded.problems).toEqual([]);
    expect(all.at(-1)).toMatchObject({
      n: 2,
      chains: 2,
      full: false,
      heads: [{ key: 'CHG1', seq: 2 }],
    });
    expect(folded.newest?.heads.get('CHG2')?.seq).toBe(1);
    const onFile = JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
    expect(onFile).toMatchObject({ n: 2, full: true, root: all.at(-1)!.root });
    expect(onFile.heads.map((h) => h.key)).toEqual(['CHG1', 'CHG2']);
    expect(checkpointSignatureValid(KEY, onFile)).toBe(true);
    expect(checkpointSignatureValid(Buffer.alloc(32, 1), onFile)).toBe(false);
  });
});
