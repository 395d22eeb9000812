/**
 * Child of bench/gate-state.ts (needs `--expose-gc` for honest heap numbers). Prints one JSON
 * line: memory and step() time for N pending gates in the gate state machine, the time to read
 * them back from a compacted changelog on Kafka.
 *
 *   node --expose-gc --import tsx bench/gate-state-child.ts <brokers> <prefix> <N,N,…>
 *
 * @module
 */
import { createKafkaBus } from '../src/bus/kafka.js';
import { GatePolicySchema } from '../src/config/changes.js';
import { step, type CrState } from '../src/gate/machine.js';
import { seededGate } from './lib/seeded-gate.js';

const [brokers = '127.0.0.1:39092', prefix = 'bench-gate-state', countsArg = '1,1000'] =
  process.argv.slice(2);
const counts = countsArg.split(',').map(Number);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const policy = GatePolicySchema.parse({});
const ctx = { now: Date.now(), policyOf: () => policy };

function build(n: number): { states: Map<string, CrState>; stepMs: number; jsonBytes: number } {
  const states = new Map<string, CrState>();
  const gates = Array.from({ length: n }, (_, i) => seededGate(i));
  const t0 = performance.now();
  for (const g of gates) {
    const { state } = step(states.get(g.changeNumber), { kind: 'registered', gate: g }, ctx);
    states.set(g.changeNumber, state);
  }
  const stepMs = performance.now() - t0;
  let jsonBytes = 0;
  for (const s of states.values()) jsonBytes += Buffer.byteLength(JSON.stringify(s));
  return { states, stepMs, jsonBytes };
}

const memory: {
  n: number;
  heapBytes: number;
  rssBytes: number;
  stepUs: number;
  jsonBytes: number;
}[] = [];
for (const n of counts) {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const built = build(n);
  gc();
  memory.push({
    n,
    heapBytes: process.memoryUsage().heapUsed - heap0,
    rssBytes: process.memoryUsage().rss - rss0,
    stepUs: (built.stepMs * 1000) / n,
    jsonBytes: built.jsonBytes,
  });
  built.states.clear();
}

// Changelog restore: write the largest set to a compacted topic, read it back like the gate
// worker does (readToEnd + JSON.parse per record).
const largest = Math.max(...counts);
const bus = createKafkaBus({ brokers: [brokers], publishTimeoutMs: 60_000 });
const topic = `${prefix}.restore`;
await bus.ensureTopics([{ topic, partitions: 1, cleanup: 'compact' }]);
const { states } = build(largest);
const records = [...states.values()].map((s) => ({
  topic,
  key: s.number,
  value: Buffer.from(JSON.stringify(s)),
  headers: {},
}));
const w0 = performance.now();
for (let i = 0; i < records.length; i += 400) await bus.publish(records.slice(i, i + 400));
const writeMs = performance.now() - w0;
states.clear();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const restored = new Map<string, CrState>();
const r0 = performance.now();
await bus.readToEnd(topic, (record) => {
  if (record.key && record.value)
    restored.set(record.key, JSON.parse(record.value.toString('utf8')) as CrState);
});
const restoreMs = performance.now() - r0;
gc();
const restoredHeap = process.memoryUsage().heapUsed - heapBefore;
const restoredCount = restored.size;
restored.clear();

await bus.close();

process.stdout.write(
  `${JSON.stringify({ memory, restore: { n: restoredCount, writeMs, restoreMs, heapBytes: restoredHeap } })}\n`,
);
process.exit(0);
