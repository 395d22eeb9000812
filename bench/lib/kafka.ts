/**
 * The benchmark's own broker (port 39092, wiped at start, never the test broker on 9092), topic
 * creation, and Kafka's own load generator `org.apache.kafka.tools.ProducerPerformance` as the
 * ceiling.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, startLocalKafka, type LocalKafka } from '../../scripts/kafka-local.js';

export const BENCH_KAFKA_PORT = 39092;

/** Start (or reuse) the bench broker; `fresh` wipes its data dir when we start it. */
export function startBenchKafka(say: (line: string) => void): Promise<LocalKafka> {
  return startLocalKafka({ port: BENCH_KAFKA_PORT, fresh: true, say });
}

/** Create topics (idempotent) with `partitions` partitions each. */
export async function createTopics(
  brokers: string,
  topics: string[],
  partitions: number,
  configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, clientId: 'bench' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries,
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgMs: number;
  maxMs: number;
  p50: number;
  p99: number;
  p999: number;
  /** Peak RSS of the JVM, bytes. */
  rss: number;
  props: string;
}

/**
 * Run ProducerPerformance (acks=all) for about `durationS` seconds: a short calibration run
 * sizes `--num-records`, so the run stops by itself; a watchdog kills it at 4× the budget.
 */
export async function producerPerformance(options: {
  brokers: string;
  topic: string;
  recordSize: number;
  durationS: number;
  /** Extra producer properties, e.g. `batch.size=1048576`. */
  props?: string[];
  sampleRss: (pid: number) => { stop(): { peak: number } };
}): Promise<ProducerPerfResult> {
  const calibration = await runOnce({ ...options, records: 2000 });
  const records = Math.max(2000, Math.round(calibration.recordsPerSecond * options.durationS));
  return runOnce({ ...options, records });
}

async function runOnce(options: {
  brokers: string;
  topic: string;
  recordSize: number;
  durationS: number;
  records: number;
  props?: string[];
  sampleRss: (pid: number) => { stop(): { peak: number } };
}): Promise<ProducerPerfResult> {
  const libs = await ensureKafkaJars();
  const props = [`bootstrap.servers=${options.brokers}`, 'acks=all', ...(options.props ?? [])];
  const args = ['-Xmx512m', '-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance'];
  args.push('--topic', options.topic, '--num-records', String(options.records));
  args.push('--record-size', String(options.recordSize), '--throughput', '-1');
  args.push('--producer-props', ...props);
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const rss = options.sampleRss(child.pid!);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const watchdog = setTimeout(
    () => child.kill('SIGKILL'),
    Math.max(60, options.durationS * 4) * 1000,
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(watchdog);
  const peak = rss.stop().peak;
  // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50 ms 50th, … 99th, … 99.9th."
  const final =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      out,
    );
  if (code !== 0 || !final) {
    throw new Error(`[bench] ProducerPerformance failed (exit ${code}):\n${out.slice(-3000)}`);
  }
  const n = (i: number) => Number(final[i]);
  return {
    records: n(1),
    recordsPerSecond: n(2),
    mbPerSecond: n(3),
    avgMs: n(4),
    maxMs: n(5),
    p50: n(6),
    p99: n(8),
    p999: n(9),
    rss: peak,
    props: props.slice(1).join(' '),
  };
}
