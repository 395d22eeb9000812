import { randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toRecord } from '../../../src/bus/cloudevents.js';
import type { Bus } from '../../../src/bus/port.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { buildEvent, type NormalizedEvent } from '../../../src/events/build.js';
import { createLogger } from '../../../src/log.js';
import {
  startChatReceiver,
  type ChatPost,
  type ChatReceiver,
} from '../../../src/sandbox/chat/index.js';
import { createServiceNowClients } from '../../../src/servicenow/index.js';
import { startNotifyWorker, type NotifyWorker } from '../../../src/workers/notify/index.js';
import {
  createTestKafkaBus,
  hasKafka,
  kafkaBrokers,
  uniqueTopic,
  waitFor,
} from '../../support/kafka.js';
import type { TestProcess } from '../../support/process-stack/process.js';
import { startWorkerProcess } from '../../support/process-stack/roles.js';
import { prefixedTopics } from '../../support/process-stack/topics.js';

/**
 * The notify worker as N replicas of one consumer group on real Kafka: the gates' events are
 * published as the gate worker publishes them, replicas join and leave (closed, or killed with
 * SIGKILL) while reminders are armed and decisions stream in, and the chat emulator must have
 * got every notification exactly once per channel.
 */

const GATES = 30;
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });

let chat: ChatReceiver;
beforeAll(async () => {
  chat = await startChatReceiver();
});
afterAll(async () => {
  await chat?.close();
});

interface Replica {
  bus: Bus;
  worker: NotifyWorker;
  close(): Promise<void>;
}
const replicas: Replica[] = [];
const children: TestProcess[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.close()));
  await Promise.all(children.splice(0).map((c) => c.kill()));
  chat.reset();
});

/** The config of every replica, as a YAML file would hold it. */
function rawConfig(prefix: string, channels: 'slack+webhook' | 'webhook') {
  const reasons = ['gate-waiting', 'gate-rejected'];
  return {
    bus: 'kafka',
    // One key for every replica (required with Kafka); a fresh one per test run.
    security: { encryptionKey: ENCRYPTION_KEY },
    log: { level: process.env.LOG_LEVEL ?? 'silent' },
    kafka: {
      brokers: kafkaBrokers(),
      partitions: 6,
      groupPrefix: prefix,
      topics: prefixedTopics(prefix),
    },
    // Never called: every decision follows its gate's registration, which has the sys_id.
    servicenow: {
      connections: {
        main: {
          url: 'http://127.0.0.1:9',
          auth: { type: 'basic', username: 'unused', password: 'unused' },
        },
      },
    },
    notify: {
      stateTopic: `${prefix}.notify-state`,
      waitingAfterMinutes: 0.05, // 3 s
      channels: [
        ...(channels === 'slack+webhook'
          ? [{ name: 'ops', kind: 'slack', url: chat.slackUrl('ops'), reasons }]
          : []),
        {
          name: 'pager',
          kind: 'webhook',
          url: chat.webhookUrl('pager'),
          secret: chat.secret,
          reasons,
        },
      ],
    },
  };
}

function configFor(prefix: string, channels: 'slack+webhook' | 'webhook'): Config {
  return loadConfig({
    env: {},
    overrides: (raw) => Object.assign(raw, rawConfig(prefix, channels)),
  });
}

/** `changegate worker notify` as a process of its own, on the same config. */
async function startChild(prefix: string): Promise<TestProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'notify-replica-'));
  const file = join(dir, 'config.yaml');
  // JSON is YAML.
  writeFileSync(file, JSON.stringify({ ...rawConfig(prefix, 'webhook'), log: { level: 'info' } }));
  return startWorkerProcess({
    name: 'notify-replica',
    logDir: dir,
    configPath: file,
    names: 'notify',
    timeoutMs: 60_000,
    processes: children,
  });
}

async function startReplica(config: Config): Promise<Replica> {
  const bus = createTestKafkaBus();
  const worker = await startNotifyWorker({
    bus,
    config,
    servicenow: createServiceNowClients(config.servicenow, { log }),
    log,
    runtime: { groupPrefix: config.kafka.groupPrefix },
  });
  let closed: Promise<void> | null = null;
  const replica: Replica = {
    bus,
    worker,
    close: () => (closed ??= worker.close().then(() => bus.close())),
  };
  replicas.push(replica);
  return replica;
}

const number = (i: number) => `CHG${String(1000 + i)}`;
const sysId = (i: number) => (1000 + i).toString(16).padStart(32, '0');

function gateEvent(config: Config, i: number, kind: 'registered' | 'rejected') {
  const gateId = `gate-${i}`;
  const correlationId = `jenkins/acme/payments/d-${i}`;
  const normalized: NormalizedEvent =
    kind === 'registered'
      ? {
          type: 'dev.changegate.gate.registered',
          subject: number(i),
          key: number(i),
          data: {
            gateId,
            changeNumber: number(i),
            changeSysId: sysId(i),
            provider: 'jenkins',
            project: 'acme/payments',
            environment: 'production',
            deploymentId: `d-${i}`,
            correlationId,
            callback: { kind: 'generic', url: 'https://ci.example/cb' },
            runUrl: `https://ci.example/runs/${i}`,
            registeredAt: new Date().toISOString(),
          },
        }
      : {
          type: 'dev.changegate.gate.rejected',
          subject: number(i),
          key: number(i),
          data: {
            gateId,
            changeNumber: number(i),
            changeSysId: sysId(i),
            correlationId,
            outcome: 'rejected',
            reason: 'CR rejected in ServiceNow',
            decidedAt: new Date().toISOString(),
            waitedMs: 5000,
            callback: { status: 'done', httpStatus: 200 },
          },
        };
  const event = buildEvent(normalized, {
    id: `${kind}-${i}`,
    source: 'changegate/gate',
    time: new Date(),
  });
  return toRecord(config.kafka.topics.changes, event, number(i));
}

/** Which reason and CR a chat post is about. */
function about(p: ChatPost): string {
  const body = JSON.stringify(p.body);
  const reason =
    p.kind === 'webhook'
      ? String((p.body as { data: { reason: string } }).data.reason)
      : body.includes('waiting on')
        ? 'gate-waiting'
        : body.includes('gate rejected')
          ? 'gate-rejected'
          : 'other';
  return `${reason} ${/CHG\d+/.exec(body)?.[0]} ${p.hook}`;
}
const tally = (posts: ChatPost[]) => {
  const counts = new Map<string, number>();
  for (const p of posts) counts.set(about(p), (counts.get(about(p)) ?? 0) + 1);
  return counts;
};
const expected = (hooks: string[]) =>
  new Map(
    ['gate-waiting', 'gate-rejected'].flatMap((reason) =>
      Array.from({ length: GATES }, (_, i) =>
        hooks.map((h) => [`${reason} ${number(i)} ${h}`, 1] as const),
      ).flat(),
    ),
  );

describe.skipIf(!hasKafka())('notify worker as replicas on Kafka', () => {
  it('notifies once per gate, reason and channel while replicas leave and join', async () => {
    const prefix = uniqueTopic('ntr');
    const config = configFor(prefix, 'slack+webhook');
    const admin = createTestKafkaBus();
    const owned = (...rs: Replica[]) => rs.map((r) => r.worker.partitions().length);
    const waiting = (...rs: Replica[]) => rs.reduce((n, r) => n + r.worker.waiting().length, 0);
    try {
      await admin.ensureTopics(topicSpecs(config.kafka));
      const r1 = await startReplica(config);
      const r2 = await startReplica(config);
      const r3 = await startReplica(config);
      await waitFor(
        () => owned(r1, r2, r3).join() === '2,2,2',
        'three replicas sharing 6 partitions',
        30_000,
      );
      const started = Date.now();
      await admin.publish(
        Array.from({ length: GATES }, (_, i) => gateEvent(config, i, 'registered')),
      );
      // Reminders are armed on all three; r1 leaves before they fall due: its timers must move.
      await waitFor(() => waiting(r1, r2, r3) === GATES, '30 gates waiting', 30_000);
      expect(waiting(r1)).toBeGreaterThan(0);
      await r1.close();
      await waitFor(
        () => owned(r2, r3).reduce((n, c) => n + c, 0) === 6,
        'r2 and r3 owning all partitions',
        30_000,
      );
      await waitFor(
        () =>
          chat.accepted().filter((p) => about(p).startsWith('gate-waiting')).length === GATES * 2,
        '60 reminders',
        30_000,
      );
      const reminded = Date.now() - started;

      // A replica joins (a rebalance without a crash) while the decisions stream in, and r2
      // leaves half-way.
      const r4 = await startReplica(config);
      for (let i = 0; i < GATES; i++) {
        await admin.publish([gateEvent(config, i, 'rejected')]);
        if (i === GATES / 2) await r2.close();
        await sleep(30);
      }
      await waitFor(
        () =>
          chat.accepted().filter((p) => about(p).startsWith('gate-rejected')).length >= GATES * 2,
        '60 rejections',
        40_000,
      );
      await sleep(2000);
      expect(tally(chat.received())).toEqual(expected(['ops', 'pager']));
      expect([...r3.worker.partitions(), ...r4.worker.partitions()].sort()).toEqual([
        0, 1, 2, 3, 4, 5,
      ]);
      expect(waiting(r3, r4)).toBe(0);
      console.log(
        `notify replicas (3, then 2, then 3, then 2): 60 reminders ${reminded} ms after registration, 60 rejections; 0 duplicates`,
      );
    } finally {
      await admin.close();
    }
  }, 150_000);

  it('notifies once per gate and reason when a replica process is killed with SIGKILL, twice', async () => {
    const prefix = uniqueTopic('ntk');
    const config = configFor(prefix, 'webhook');
    const admin = createTestKafkaBus();
    try {
      await admin.ensureTopics(topicSpecs(config.kafka));
      const child = await startChild(prefix);
      const r = await startReplica(config);
      await waitFor(
        () => r.worker.partitions().length > 0 && r.worker.partitions().length < 6,
        'the process and the replica sharing the partitions',
        40_000,
      );
      const started = Date.now();
      await admin.publish(
        Array.from({ length: GATES }, (_, i) => gateEvent(config, i, 'registered')),
      );
      await waitFor(() => r.worker.waiting().length > 0, 'gates waiting on the replica', 20_000);
      await sleep(1000);
      // The process holds the other gates (and their timers).
      expect(r.worker.waiting().length).toBeLessThan(GATES);
      // Before the reminders fall due: the killed process's timers live on in its changelog.
      const killedAt = Date.now();
      await child.kill();
      await waitFor(() => r.worker.partitions().length === 6, 'the replica owning all 6', 40_000);
      const tookOver = Date.now() - killedAt;
      await waitFor(
        () => chat.accepted().filter((p) => about(p).startsWith('gate-waiting')).length === GATES,
        '30 reminders',
        40_000,
      );
      const reminded = Date.now() - started;

      // The killed worker comes back (a rebalance), and is killed again while decisions stream.
      const again = await startChild(prefix);
      await waitFor(
        () => r.worker.partitions().length < 6,
        'the process back in the group',
        40_000,
      );
      for (let i = 0; i < GATES; i++) {
        await admin.publish([gateEvent(config, i, 'rejected')]);
        if (i === GATES / 2) void again.kill();
        await sleep(50);
      }
      await waitFor(
        () => chat.accepted().filter((p) => about(p).startsWith('gate-rejected')).length >= GATES,
        '30 rejections',
        60_000,
      );
      await sleep(2000);
      expect(tally(chat.accepted())).toEqual(expected(['pager']));
      const duplicates = chat.received().filter((p) => p.effect === 'duplicate').length;
      console.log(
        `notify kill -9: survivor owned all partitions ${tookOver} ms after the kill; 30 reminders ${reminded} ms after registration; 30 rejections; ${duplicates} resends dropped by webhook-id`,
      );
    } finally {
      await admin.close();
    }
  }, 240_000);
});
