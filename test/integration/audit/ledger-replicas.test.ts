import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRecord } from '../../../src/audit/auditor.js';
import type { LedgerRecord } from '../../../src/audit/chain.js';
import { withAuditSigning } from '../../../src/audit/signing-bus.js';
import { auditKeyFromConfig } from '../../../src/audit/signing.js';
import type { KafkaBus } from '../../../src/bus/kafka.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { auditExport, type AuditExportResult } from '../../../src/commands/audit-export.js';
import { ConfigSchema, type Config } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/log.js';
import { startLedgerWorker, type LedgerWorker } from '../../../src/workers/ledger/index.js';
import {
  createTestKafkaBus,
  hasKafka,
  kafkaBrokers,
  uniqueTopic,
  waitFor,
} from '../../support/kafka.js';
import type { TestProcess } from '../../support/process-stack/process.js';
import { startWorkerProcess } from '../../support/process-stack/roles.js';
import { eventually } from '../../support/stack.js';
import { prefixedTopics } from '../../support/process-stack/topics.js';

/**
 * The audit ledger as N replicas of one consumer group on real Kafka: audit lines for many CRs
 * stream in while a replica leaves (closed) or is killed with SIGKILL, and afterwards
 * `audit export` must verify every chain against the per-partition checkpoints, hold each line
 * exactly once in its chain, in the order it was written, and no chain may fork.
 */

const KEYS = 40;
const LINES = 12;
const PARTITIONS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });

interface Replica {
  worker: LedgerWorker;
  close(): Promise<void>;
}
const replicas: Replica[] = [];
const children: TestProcess[] = [];
const buses: KafkaBus[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.close()));
  await Promise.all(children.splice(0).map((c) => c.kill()));
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

function rawConfig(prefix: string, auditKey: string, checkpointFile: string) {
  return {
    bus: 'kafka',
    log: { level: process.env.LOG_LEVEL ?? 'silent' },
    security: { encryptionKey: randomBytes(32).toString('base64') },
    audit: { key: auditKey, checkpointIntervalMs: 500, checkpointFile },
    kafka: {
      brokers: kafkaBrokers(),
      partitions: PARTITIONS,
      groupPrefix: prefix,
      topics: prefixedTopics(prefix),
    },
  };
}

async function startReplica(config: Config): Promise<Replica> {
  const bus = createTestKafkaBus();
  const worker = await startLedgerWorker({ bus, config, key: auditKeyFromConfig(config), log });
  let closed: Promise<void> | null = null;
  const replica = { worker, close: () => (closed ??= worker.close().then(() => bus.close())) };
  replicas.push(replica);
  return replica;
}

/** `changegate worker audit` as a process of its own, with its own checkpoint file. */
async function startChild(raw: ReturnType<typeof rawConfig>, file: string): Promise<TestProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-replica-'));
  const configFile = join(dir, 'config.yaml');
  const own = { ...raw, log: { level: 'info' }, audit: { ...raw.audit, checkpointFile: file } };
  writeFileSync(configFile, JSON.stringify(own)); // JSON is YAML
  return startWorkerProcess({
    name: 'ledger-replica',
    logDir: dir,
    configPath: configFile,
    names: 'audit',
    timeoutMs: 60_000,
    processes: children,
  });
}

const chain = (k: number) => `CHG${String(20000 + k)}`;

interface Ledger {
  records: (LedgerRecord & { partition: number })[];
}

async function readLedger(bus: KafkaBus, topic: string): Promise<Ledger> {
  const records: Ledger['records'] = [];
  await bus.readToEnd(topic, (r) =>
    records.push({
      ...(JSON.parse(r.value!.toString('utf8')) as LedgerRecord),
      partition: r.partition,
    }),
  );
  return { records };
}

async function everyLineIn(bus: KafkaBus, config: Config, timeoutMs: number): Promise<void> {
  const ids = async () =>
    new Set((await readLedger(bus, config.kafka.topics.auditLedger)).records.map((r) => r.entry.id))
      .size;
  await eventually(async () => (await ids()) === KEYS * LINES, timeoutMs).catch(async () => {
    throw new Error(`${await ids()} of ${KEYS * LINES} lines in the ledger`);
  });
}

/** Stream LINES rounds of one line per chain, calling `during(round)` between rounds. */
async function stream(
  config: Config,
  bus: KafkaBus,
  during: (round: number) => Promise<void>,
): Promise<void> {
  const writers = withAuditSigning(bus, config.kafka.topics.audit, auditKeyFromConfig(config));
  for (let n = 1; n <= LINES; n++) {
    await writers.publish(
      Array.from({ length: KEYS }, (_, k) =>
        auditRecord(config.kafka.topics.audit, {
          id: `${chain(k)}#${n}`,
          key: chain(k),
          actor: 'changegate/gate',
          action: `step-${n}`,
        }),
      ),
    );
    await during(n);
    await sleep(150);
  }
}

async function exportAll(
  bus: KafkaBus,
  config: Config,
  anchor: { files?: string[] } = {},
): Promise<AuditExportResult & { err: string }> {
  let err = '';
  const result = await auditExport({
    bus,
    ledgerTopic: config.kafka.topics.auditLedger,
    checkpointTopic: config.kafka.topics.auditCheckpoints,
    ...(anchor.files ? { checkpointFiles: anchor.files } : {}),
    key: auditKeyFromConfig(config),
    selector: { since: new Date(0) },
    format: 'json',
    write: () => undefined,
    warn: (t) => (err += t),
  });
  return { ...result, err };
}

/** Each line once in its chain, in the order written; no (chain, seq) with two hashes. */
function expectChainsWhole(result: AuditExportResult, ledger: Ledger): void {
  expect(result.problems).toEqual([]);
  expect(ledger.records.length - result.repeats).toBe(KEYS * LINES);
  expect(result.exitCode).toBe(0);
  const ids = result.rows.map((r) => r.entryId);
  expect(ids).toHaveLength(KEYS * LINES);
  expect(new Set(ids).size).toBe(KEYS * LINES);
  for (let k = 0; k < KEYS; k++) {
    const own = ledger.records.filter((r) => r.key === chain(k));
    const bySeq = new Map<number, Set<string>>();
    for (const r of own) bySeq.set(r.seq, (bySeq.get(r.seq) ?? new Set()).add(r.hash));
    expect([...bySeq.values()].every((hashes) => hashes.size === 1)).toBe(true); // no fork
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: LINES }, (_, i) => i + 1),
    );
    const order = [...new Map(own.map((r) => [r.seq, r.entry.action])).entries()]
      .sort(([a], [b]) => a - b)
      .map(([, action]) => action);
    expect(order).toEqual(Array.from({ length: LINES }, (_, i) => `step-${i + 1}`));
  }
  // Every partition holding chains is covered by a checkpoint, and the checkpoints reach the end.
  const partitions = new Set(ledger.records.map((r) => r.partition));
  expect(result.checkpoint?.partitions.map((c) => c.partition).sort()).toEqual(
    [...partitions].sort(),
  );
  expect(result.checkpoint?.partitions.reduce((n, c) => n + c.chains, 0)).toBe(KEYS);
}

const owned = (...rs: Replica[]) => rs.map((r) => r.worker.partitions().length);

describe.skipIf(!hasKafka())('the audit ledger as replicas on Kafka', () => {
  it('keeps one whole chain per CR while one of two replicas is closed mid-stream', async () => {
    const prefix = uniqueTopic('ldr');
    const dir = mkdtempSync(join(tmpdir(), 'ledger-replicas-'));
    const raw = rawConfig(prefix, randomBytes(32).toString('base64'), join(dir, 'a.json'));
    const configA = ConfigSchema.parse(raw);
    const configB = ConfigSchema.parse({
      ...raw,
      audit: { ...raw.audit, checkpointFile: join(dir, 'b.json') },
    });
    const admin = createTestKafkaBus();
    buses.push(admin);
    await admin.ensureTopics(topicSpecs(configA.kafka));
    const a = await startReplica(configA);
    const b = await startReplica(configB);
    await waitFor(() => owned(a, b).join() === '3,3', 'two replicas sharing 6 partitions', 30_000);

    let handedOver = 0;
    await stream(configA, admin, async (round) => {
      if (round !== LINES / 2) return;
      const closing = Date.now();
      await a.close();
      await waitFor(() => owned(b)[0] === PARTITIONS, 'b owning all partitions', 30_000);
      handedOver = Date.now() - closing;
    });
    await everyLineIn(admin, configA, 30_000);
    await b.close();

    const ledger = await readLedger(admin, configA.kafka.topics.auditLedger);
    const result = await exportAll(admin, configA);
    expectChainsWhole(result, ledger);
    // Both replicas' checkpoint files together anchor every partition too.
    const fromFiles = await exportAll(admin, configA, {
      files: [join(dir, 'a.json'), join(dir, 'b.json')],
    });
    expect(fromFiles.problems).toEqual([]);
    expect(fromFiles.checkpoint?.partitions).toHaveLength(result.checkpoint!.partitions.length);
    // A's revocation checkpoints and B's later ones continue the same per-partition chains.
    expect(Math.max(...result.checkpoint!.partitions.map((c) => c.n))).toBeGreaterThan(1);
    console.log(
      `ledger close: ${KEYS} chains × ${LINES} lines across ${PARTITIONS} partitions; b owned all ${handedOver} ms after a's close began; ${result.repeats} repeats; ${result.checkpoint!.partitions.map((c) => `p${c.partition}#${c.n}`).join(' ')}`,
    );
  }, 180_000);

  it('keeps one whole chain per CR when a `changegate worker audit` process is killed with SIGKILL', async () => {
    const prefix = uniqueTopic('ldk');
    const dir = mkdtempSync(join(tmpdir(), 'ledger-kill-'));
    const raw = rawConfig(prefix, randomBytes(32).toString('base64'), join(dir, 'replica.json'));
    const config = ConfigSchema.parse(raw);
    const admin = createTestKafkaBus();
    buses.push(admin);
    await admin.ensureTopics(topicSpecs(config.kafka));
    const child = await startChild(raw, join(dir, 'process.json'));
    const r = await startReplica(config);
    await waitFor(
      () => r.worker.partitions().length > 0 && r.worker.partitions().length < PARTITIONS,
      'the process and the replica sharing the partitions',
      40_000,
    );

    let tookOver = 0;
    let again: TestProcess | undefined;
    await stream(config, admin, async (round) => {
      if (round === 4) {
        // Mid-stream, lines in flight on the process's partitions.
        const killedAt = Date.now();
        await child.kill();
        await waitFor(() => r.worker.partitions().length === PARTITIONS, 'r owning all', 40_000);
        tookOver = Date.now() - killedAt;
      }
      if (round === 7) {
        // The process comes back (a rebalance while lines stream) and is killed once more.
        again = await startChild(raw, join(dir, 'process.json'));
        await waitFor(() => r.worker.partitions().length < PARTITIONS, 'process back', 40_000);
      }
      if (round === 10) void again!.kill();
    });
    await everyLineIn(admin, config, 60_000);
    await waitFor(() => r.worker.partitions().length === PARTITIONS, 'r owning all', 40_000);
    await r.close();

    const ledger = await readLedger(admin, config.kafka.topics.auditLedger);
    const result = await exportAll(admin, config);
    expectChainsWhole(result, ledger);
    // The killed process's file is older than the survivor's; per partition the newest counts.
    const fromFiles = await exportAll(admin, config, {
      files: [join(dir, 'process.json'), join(dir, 'replica.json')],
    });
    expect(fromFiles.problems).toEqual([]);
    expect(fromFiles.exitCode).toBe(0);
    expect(fromFiles.checkpoint?.partitions).toHaveLength(PARTITIONS);
    console.log(
      `ledger kill -9: survivor owned all ${PARTITIONS} partitions ${tookOver} ms after the kill; ${ledger.records.length} ledger records for ${KEYS * LINES} lines (${result.repeats} byte-for-byte repeats of appends cut short); ${result.checkpoint!.partitions.map((c) => `p${c.partition}#${c.n}`).join(' ')}`,
    );
  }, 240_000);
});
