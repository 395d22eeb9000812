import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack, type FaultStack } from './support/fault-stack.js';
import { formatReport } from './support/report.js';
import { runFaults, type RunOptions, type RunReport } from './support/run.js';
import { SIZES } from './support/workload.js';

/**
 * Prove it holds: signed deliveries from all four CI providers, approvals and failures, with
 * duplicates and out-of-order business-rule messages, while Kafka is stopped and SIGKILLed, the
 * worker and the receiver are SIGKILLed, and ServiceNow fails ~20 % of calls. At the end: no
 * acknowledged delivery missing from Kafka, one CR per correlation id, exactly one deciding
 * callback per gate, one incident per failing pipeline with every failure counted once.
 *
 * The suite starts, kills and restarts its own broker on `FAULTS_KAFKA_PORT` (default 49092).
 * `FAULTS_SCALE=large` sends thousands of deliveries instead of the CI size (~300).
 */

const large = process.env.FAULTS_SCALE === 'large';
const KAFKA_PORT = Number(process.env.FAULTS_KAFKA_PORT ?? 49092);

const OPTIONS: RunOptions = large
  ? {
      size: SIZES.large,
      ratePerSecond: 25,
      concurrency: 16,
      duplicateShare: 0.1,
      sandboxFaultShare: 0.2,
      chaosGapMs: 10_000,
      kafkaDownMs: 3000,
      settleTimeoutMs: 300_000,
    }
  : {
      size: SIZES.ci,
      ratePerSecond: 4,
      concurrency: 8,
      duplicateShare: 0.1,
      sandboxFaultShare: 0.2,
      chaosGapMs: 5000,
      kafkaDownMs: 2000,
      settleTimeoutMs: 90_000,
    };

function skipReason(): string | undefined {
  if (process.env.KAFKA_BROKERS)
    return 'KAFKA_BROKERS is set: the suite kills and restarts its broker, so it never uses a shared one';
  if (process.env.CHANGEGATE_TEST_NO_KAFKA === '1') return 'CHANGEGATE_TEST_NO_KAFKA=1';
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0)
    return 'no java: the suite runs its own Kafka broker from Maven Central jars';
  return undefined;
}

const skip = skipReason();
if (skip) console.log(`[faults] skipped: ${skip}`);

describe.skipIf(skip !== undefined)('changegate under injected faults', () => {
  let stack: FaultStack | undefined;
  let report: RunReport;
  let setupMs = 0;

  beforeAll(
    async () => {
      const started = Date.now();
      stack = await startFaultStack({ kafkaPort: KAFKA_PORT, outboundJitterMs: 300 });
      setupMs = Date.now() - started;
      report = await runFaults(stack, OPTIONS);
      console.log(formatReport(report, setupMs));
    },
    (large ? 60 : 5) * 60_000,
  );
  afterAll(async () => stack?.close(), 120_000);

  it('injected every kind of fault while the deliveries were sent', () => {
    const kinds = new Set(report.faults.map((f) => f.kind));
    expect([...kinds].sort()).toEqual([
      'kafka-kill9',
      'kafka-stop',
      'receiver-kill9',
      'worker-kill9',
    ]);
    expect(report.tally.servicenow.faults.size).toBeGreaterThanOrEqual(3);
    expect(report.deliveries.duplicatesSent).toBeGreaterThan(0);
    expect(report.businessRules.stale + report.businessRules.duplicates).toBeGreaterThan(0);
  });

  it('settles: every delivery accepted, every gate decided, every failure counted', () => {
    expect(report.sender.gaveUp).toBe(0);
    expect(report.unsettled).toEqual([]);
  });

  it('loses no acknowledged delivery: each one is on Kafka', () => {
    expect(report.tally.deliveries.acknowledged).toBeGreaterThan(report.deliveries.planned);
    expect(report.tally.deliveries.lost).toEqual([]);
  });

  it('creates exactly one CR per deployment', () => {
    expect(report.tally.crs.missing).toEqual([]);
    expect(report.tally.crs.duplicated).toEqual([]);
  });

  it('calls each gate back exactly once, with the outcome the approver chose', () => {
    const c = report.tally.callbacks;
    expect(c.none).toEqual([]);
    expect(c.multiple).toEqual([]);
    expect(c.wrongOutcome).toEqual([]);
    expect(c.exactlyOnce).toBe(c.gates);
  });

  it('files one incident per failing pipeline and counts each failure once', () => {
    const i = report.tally.incidents;
    expect(i.missing).toEqual([]);
    expect(i.duplicated).toEqual([]);
    expect(i.miscounted).toEqual([]);
  });
});
