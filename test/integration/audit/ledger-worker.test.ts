import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRecord } from '../../../src/audit/auditor.js';
import {
  CheckpointFileSchema,
  checkpointSignatureValid,
  foldCheckpoints,
  type Checkpoint,
} from '../../../src/audit/checkpoint.js';
import { withAuditSigning } from '../../../src/audit/signing-bus.js';
import {
  link,
  verifyChains,
  type ChainHead,
  type StoredLedgerRecord,
} from '../../../src/audit/chain.js';
import type { AuditLine } from '../../../src/audit/entry.js';
import { createMemoryBus, type MemoryBus } from '../../../src/bus/memory.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { startLedgerWorker, type LedgerWorker } from '../../../src/workers/ledger/index.js';
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

  it('continues chains written before the heads changelog existed, instead of forking them', async () => {
    bus = createMemoryBus();
    // A ledger as the worker that kept its heads in memory left it: records, no changelog.
    let head: ChainHead | undefined;
    for (let n = 1; n <= 3; n++) {
      const entry = JSON.parse(line('CHG7', n).value!.toString('utf8')) as AuditLine;
      const record = link('CHG7', head, entry, KEY);
      head = { seq: record.seq, hash: record.hash };
      await bus.publish([
        {
          topic: topics.auditLedger,
          key: 'CHG7',
          value: Buffer.from(JSON.stringify(record)),
          headers: {},
        },
      ]);
    }
    const worker = await startLedgerWorker({ bus, config, key: KEY, log });
    workers.push(worker);
    // The old worker's lines are redelivered to the new group; then a new one arrives.
    await writers().publish([1, 2, 3, 4].map((n) => line('CHG7', n)));
    await eventually(async () => (await ledgerRecords()).length === 4);
    await new Promise((r) => setTimeout(r, 100));
    const records = await ledgerRecords();
    expect(records.map((r) => [r.seq, r.entry.action])).toEqual([
      [1, 'step-1'],
      [2, 'step-2'],
      [3, 'step-3'],
      [4, 'step-4'],
    ]);
    expect(verifyChains(records)).toBeUndefined();
    // The heads read back went to the changelog: the next owner restores them.
    await workers.pop()!.close();
    const next = await startLedgerWorker({ bus, config, key: KEY, log, groupId: 'next' });
    workers.push(next);
    await eventually(() => next.heads().get('CHG7')?.seq === 4);
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

  it('writes signed checkpoints per partition on a schedule and a last one at shutdown, to the topic and the file', async () => {
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
    const partitionOf = async (key: string) => {
      let p = -1;
      await bus.readToEnd(topics.auditLedger, (r) => {
        if (r.key === key) p = r.partition;
      });
      return p;
    };
    await writers().publish([line('CHG1', 1), line('CHG2', 1)]);
    await eventually(async () => {
      const all = await checkpoints();
      return all.reduce((n, c) => n + c.chains, 0) === 2;
    }, 5_000);
    const first = await checkpoints();
    // Nothing moved: the schedule writes nothing more.
    await new Promise((r) => setTimeout(r, 200));
    expect(await checkpoints()).toHaveLength(first.length);
    await writers().publish([line('CHG1', 2)]);
    await eventually(async () => worker.heads().get('CHG1')?.seq === 2, 5_000);
    await worker.close();
    const all = await checkpoints();
    const folded = foldCheckpoints(KEY, all);
    expect(folded.problems).toEqual([]);
    const p1 = await partitionOf('CHG1');
    const p2 = await partitionOf('CHG2');
    expect(folded.newest.get(p1)?.heads.get('CHG1')?.seq).toBe(2);
    expect(folded.newest.get(p2)?.heads.get('CHG2')?.seq).toBe(1);
    // CHG1's partition moved once more: its chain of checkpoints has a second, listing only CHG1.
    expect(all.filter((c) => c.partition === p1).at(-1)).toMatchObject({
      n: 2,
      full: false,
      heads: [{ key: 'CHG1', seq: 2 }],
    });
    const onFile = CheckpointFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(onFile.checkpoints.every((c) => c.full && checkpointSignatureValid(KEY, c))).toBe(true);
    expect(onFile.checkpoints.every((c) => !checkpointSignatureValid(Buffer.alloc(32, 1), c))).toBe(
      true,
    );
    const fileHeads = onFile.checkpoints.flatMap((c) => c.heads.map((h) => [h.key, h.seq]));
    expect(fileHeads.sort()).toEqual([
      ['CHG1', 2],
      ['CHG2', 1],
    ]);
    expect(onFile.checkpoints.find((c) => c.partition === p1)?.root).toBe(
      folded.newest.get(p1)?.checkpoint.root,
    );
  });
});
