import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecord } from '../../src/audit/auditor.js';
import { makeCheckpoint, checkpointDigest, type Checkpoint } from '../../src/audit/checkpoint.js';
import { link, type ChainHead, type LedgerRecord } from '../../src/audit/chain.js';
import { auditKeyFromConfig } from '../../src/audit/signing.js';
import { withAuditSigning } from '../../src/audit/signing-bus.js';
import type { BusRecord, ConsumedRecord } from '../../src/bus/port.js';
import type { KafkaBus } from '../../src/bus/kafka.js';
import { topicSpecs } from '../../src/bus/topics.js';
import { auditExport, type AuditExportResult } from '../../src/commands/audit-export.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { startLedgerWorker, type LedgerWorker } from '../../src/workers/ledger/index.js';
import { createTestKafkaBus, hasKafka, kafkaBrokers, uniqueTopic } from '../support/kafka.js';
import { eventually } from '../support/stack.js';

// Issue 15 hole 5: dropping the newest entries of a chain, deleting a whole chain, or rewriting a
// chain from its first entry all passed `changegate audit export` ("every hash verifies"): the
// chain was an unkeyed SHA-256 with nothing outside Kafka to compare it with, and the ledger
// worker chained whatever anyone produced to the audit topic. On real Kafka here: the attacker
// can produce to the topics and rebuild the ledger topic (a copy stands for the rebuilt topic).

const log = createLogger({ level: 'silent' });
const prefix = uniqueTopic('ledger-attack');
const dir = mkdtempSync(join(tmpdir(), 'changegate-checkpoint-'));
const checkpointFile = join(dir, 'audit-checkpoint.json');
const TOPIC_KEYS = ['cicd', 'changes', 'servicenow', 'gateState', 'audit', 'dlq', 'deliveries'];

describe.skipIf(!hasKafka())('tampering with the audit ledger on Kafka', () => {
  const config = ConfigSchema.parse({
    bus: 'kafka',
    kafka: {
      brokers: hasKafka() ? kafkaBrokers() : ['127.0.0.1:9092'],
      partitions: 3,
      groupPrefix: prefix,
      topics: Object.fromEntries(
        [...TOPIC_KEYS, 'auditLedger', 'auditCheckpoints', 'dlqReplayed'].map((t) => [
          t,
          `${prefix}.${t}`,
        ]),
      ),
    },
    security: { encryptionKey: Buffer.alloc(32, 0x21).toString('base64') },
    audit: { checkpointFile, checkpointIntervalMs: 3_600_000 },
  });
  const { topics } = config.kafka;
  const key = auditKeyFromConfig(config);
  let bus: KafkaBus;
  let ledger: LedgerWorker;
  let ledgerRecords: ConsumedRecord[] = [];
  /** One per ledger partition holding a chain: each partition has a checkpoint chain. */
  let checkpoints: Checkpoint[];

  const line = (chain: string, n: number) =>
    auditRecord(topics.audit, {
      id: `${chain}#${n}`,
      key: chain,
      actor: 'changegate/gate',
      action: `step-${n}`,
      reason: `step ${n} of ${chain}`,
    });

  async function read(topic: string): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    await bus.readToEnd(topic, (r) => out.push(r));
    return out;
  }

  /** The ledger as an attacker rebuilt it: a new topic holding `records`. */
  async function rebuilt(name: string, records: BusRecord[]): Promise<string> {
    const topic = `${prefix}.${name}`;
    await bus.ensureTopics([{ topic, partitions: 3, cleanup: 'delete', retentionMs: -1 }]);
    if (records.length) await bus.publish(records.map((r) => ({ ...r, topic })));
    return topic;
  }

  async function exportOf(
    ledgerTopic: string,
    anchor: { file?: string; checkpointTopic?: string } = {
      checkpointTopic: topics.auditCheckpoints,
    },
    selector: { change: string } | { since: Date } = { since: new Date(0) },
  ): Promise<AuditExportResult & { err: string }> {
    let err = '';
    const result = await auditExport({
      bus,
      ledgerTopic,
      ...(anchor.checkpointTopic ? { checkpointTopic: anchor.checkpointTopic } : {}),
      ...(anchor.file ? { checkpointFile: anchor.file } : {}),
      key,
      selector,
      format: 'json',
      write: () => undefined,
      warn: (t) => (err += t),
    });
    return { ...result, err };
  }

  const chainOf = (chain: string) => ledgerRecords.filter((r) => r.key === chain);
  const parsed = (r: ConsumedRecord) => JSON.parse(r.value!.toString('utf8')) as LedgerRecord;

  beforeAll(async () => {
    bus = createTestKafkaBus({ clientId: prefix });
    await bus.ensureTopics(topicSpecs(config.kafka));
    ledger = await startLedgerWorker({ bus, config, key, log });
    const writers = withAuditSigning(bus, topics.audit, key);
    // Three chains: CHG1 with 5 entries, CHG2 with 3, CHG3 with 4.
    await writers.publish([
      ...[1, 2, 3, 4, 5].map((n) => line('CHG1', n)),
      ...[1, 2, 3].map((n) => line('CHG2', n)),
      ...[1, 2, 3, 4].map((n) => line('CHG3', n)),
    ]);
    await eventually(async () => (await read(topics.auditLedger)).length === 12, 30_000);
    checkpoints = await ledger.checkpoint();
    ledgerRecords = await read(topics.auditLedger);
  }, 60_000);
  afterAll(async () => {
    await ledger?.close();
    await bus?.close();
  });

  it('verifies an untouched ledger against the checkpoint topic and against the checkpoint file', async () => {
    expect(checkpoints.reduce((n, c) => n + c.chains, 0)).toBe(3);
    expect(checkpoints.every((c) => c.n === 1 && c.full)).toBe(true);
    for (const anchor of [{ checkpointTopic: topics.auditCheckpoints }, { file: checkpointFile }]) {
      const result = await exportOf(topics.auditLedger, anchor);
      expect(result.problems).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(result.checkpoint?.partitions.map((c) => c.n)).toEqual(checkpoints.map(() => 1));
      expect(result.err).toMatch(
        /every hash and signature verifies, every chain reaches its partition's newest checkpoint \(#1 of partition \d/,
      );
    }
  });

  it('reports a truncated tail: CHG1 without its two newest entries', async () => {
    const cut = chainOf('CHG1').filter((r) => parsed(r).seq <= 3);
    const topic = await rebuilt('truncated', [
      ...cut,
      ...ledgerRecords.filter((r) => r.key !== 'CHG1'),
    ]);
    for (const anchor of [{ checkpointTopic: topics.auditCheckpoints }, { file: checkpointFile }]) {
      const result = await exportOf(topic, anchor);
      expect(result.exitCode).toBe(1);
      expect(result.problems).toEqual([
        expect.objectContaining({
          key: 'CHG1',
          seq: 4,
          reason: expect.stringMatching(
            /^chain truncated: ends at seq 3, checkpoint #1 .* records seq 5$/,
          ),
        }),
      ]);
      expect(result.err).toContain('ledger does not verify at CHG1 seq 4');
    }
  });

  it('reports a deleted chain: CHG2 gone entirely, even when exporting CHG2 alone', async () => {
    const topic = await rebuilt(
      'deleted',
      ledgerRecords.filter((r) => r.key !== 'CHG2'),
    );
    const result = await exportOf(topic, { file: checkpointFile }, { change: 'CHG2' });
    expect(result.exitCode).toBe(1);
    expect(result.rows).toEqual([]);
    expect(result.problems).toEqual([
      expect.objectContaining({
        key: 'CHG2',
        seq: 1,
        reason: expect.stringMatching(
          /^chain deleted: checkpoint #1 .* records 3 entries, the ledger has none$/,
        ),
      }),
    ]);
  });

  /** CHG3 rebuilt from its first entry, every reason rewritten, hashes recomputed. */
  function rechained(signWith: Buffer | undefined): BusRecord[] {
    let head: ChainHead | undefined;
    return chainOf('CHG3').map((r) => {
      const original = parsed(r);
      const entry = { ...original.entry, reason: `approved by CAB (${original.seq})` };
      const forged = link('CHG3', head, entry, signWith ?? Buffer.alloc(32, 0x66));
      head = { seq: forged.seq, hash: forged.hash };
      return { ...r, value: Buffer.from(JSON.stringify(forged)) };
    });
  }

  it('reports a re-chained history: CHG3 rebuilt from its first entry without the audit key', async () => {
    const topic = await rebuilt('rechained', [
      ...ledgerRecords.filter((r) => r.key !== 'CHG3'),
      ...rechained(undefined),
    ]);
    const result = await exportOf(topic);
    expect(result.exitCode).toBe(1);
    // Every forged record is named with its position, then the chain against the checkpoint.
    const forged = result.problems.filter((p) => /^signature does not verify/.test(p.reason));
    expect(forged.map((p) => [p.key, p.seq])).toEqual([
      ['CHG3', 1],
      ['CHG3', 2],
      ['CHG3', 3],
      ['CHG3', 4],
    ]);
    expect(forged.every((p) => p.at !== undefined)).toBe(true);
    expect(result.problems).toContainEqual(
      expect.objectContaining({
        key: 'CHG3',
        seq: 4,
        reason: expect.stringMatching(
          /^chain rewritten: seq 4 does not carry the hash checkpoint #1/,
        ),
      }),
    );
  });

  it('reports a re-chained history by an insider holding the key, against the checkpoint file', async () => {
    // The insider re-signs the rebuilt chain and appends a forged checkpoint to match it: the
    // topics now agree with each other. The checkpoint file in write-once storage does not.
    const topic = await rebuilt('rechained-insider', [
      ...ledgerRecords.filter((r) => r.key !== 'CHG3'),
      ...rechained(key),
    ]);
    const heads = new Map<number, Map<string, ChainHead>>();
    for (const r of await read(topic)) {
      const p = parsed(r);
      const partition = heads.get(r.partition) ?? new Map<string, ChainHead>();
      heads.set(r.partition, partition);
      if ((partition.get(p.key)?.seq ?? 0) < p.seq)
        partition.set(p.key, { seq: p.seq, hash: p.hash });
    }
    const forgedCheckpoints = await rebuilt('rechained-insider-checkpoints', [
      ...(await read(topics.auditCheckpoints)),
      ...checkpoints.map((c) => ({
        topic: '',
        // The key the ledger worker gives a partition's checkpoints: in order on a copy too.
        key: `${topics.auditLedger}#${c.partition}`,
        value: Buffer.from(
          JSON.stringify(
            makeCheckpoint(
              key,
              {
                ledgerTopic: topics.auditLedger,
                partition: c.partition,
                n: 2,
                prev: checkpointDigest(c),
                at: new Date(),
                heads: heads.get(c.partition)!,
              },
              true,
            ),
          ),
        ),
        headers: {},
      })),
    ]);
    const fooled = await exportOf(topic, { checkpointTopic: forgedCheckpoints });
    expect(fooled.problems).toEqual([]);
    expect(fooled.exitCode).toBe(0); // what the key alone cannot protect against …
    const caught = await exportOf(topic, { file: checkpointFile });
    expect(caught.exitCode).toBe(1); // … and what the file in write-once storage catches
    expect(caught.problems).toEqual([
      expect.objectContaining({
        key: 'CHG3',
        seq: 4,
        reason: expect.stringMatching(/^chain rewritten/),
      }),
    ]);
  });

  it('never chains an audit line produced without the writers’ key', async () => {
    await bus.publish([line('CHG1', 99)]); // straight to the audit topic, unsigned
    await eventually(
      async () =>
        (await read(topics.dlq)).some(
          (r) =>
            r.key === 'CHG1' &&
            /without a valid writer signature/.test(r.headers['changegate-error'] ?? ''),
        ),
      20_000,
    );
    expect((await read(topics.auditLedger)).filter((r) => r.key === 'CHG1')).toHaveLength(5);
    expect(ledger.heads().get('CHG1')?.seq).toBe(5);
  });
});
