/**
 * Read a V8 `.cpuprofile` (from `node --cpu-prof`) into where the time went: per stage of the
 * ingest hot path (verify → parse → normalize → validate → serialize → produce, plus HTTP, GC,
 * logging) and the top functions by self time.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Innermost matching frame wins; order matters only among frames of the same depth. */
const STAGES: [string, RegExp][] = [
  ['verify (HMAC)', /receivers\/(github\/(verify|sign)|timing-safe)/],
  ['parse (UTF-8 + JSON.parse)', /ingest\/parse-json/],
  ['validate (zod)', /node_modules\/zod\//],
  ['normalize', /receivers\/github\/|receivers\/parse-payload|events\/common/],
  ['envelope (buildEvent)', /events\/build/],
  ['serialize (toRecord)', /bus\/cloudevents/],
  ['produce (kafkajs + bus)', /node_modules\/kafkajs\/|bus\/kafka|ingest\/batching-publisher/],
  ['dedupe log', /ingest\/delivery-log/],
  ['ingest glue', /ingest\/ingest/],
  ['logging (pino)', /node_modules\/pino/],
  ['metrics', /node_modules\/prom-client|src\/metrics/],
  [
    'HTTP (node:http + hono)',
    /node_modules\/(hono|@hono)\/|node:_http|node:net|node:stream|node:internal\/streams/,
  ],
];

export interface StageShare {
  stage: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  /** Wall time covered by the profile, ms. */
  totalMs: number;
  /** Time not idle, ms. */
  busyMs: number;
  stages: StageShare[];
  top: { fn: string; where: string; ms: number; share: number }[];
}

const short = (url: string) =>
  url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/').replace(/^node:/, 'node:');

/**
 * Which part of the profile to read, as ms before the profile's end: the load phase is
 * `[end - fromEndMs, end - toEndMs]`, which leaves out start-up (module loading) and shutdown.
 */
export interface ProfileWindow {
  fromEndMs: number;
  toEndMs: number;
}

/** Summarize one profile; shares are of busy (non-idle) time within the window. */
export function summarizeProfile(path: string, window?: ProfileWindow, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const cached = stageOf.get(id);
    if (cached) return cached;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    let stage: string | undefined;
    if (name === '(idle)') stage = 'idle';
    else if (name === '(garbage collector)') stage = 'GC';
    else if (name === '(program)') stage = 'V8/native (program)';
    else {
      stage = STAGES.find(([, re]) => re.test(node.callFrame.url))?.[0];
      if (!stage) {
        const up = parent.get(id);
        stage = up === undefined ? 'other' : classify(up);
      }
    }
    stageOf.set(id, stage);
    return stage;
  };

  const stageMs = new Map<string, number>();
  const selfMs = new Map<number, number>();
  let total = 0;
  const from = window ? profile.endTime - window.fromEndMs * 1000 : -Infinity;
  const to = window ? profile.endTime - window.toEndMs * 1000 : Infinity;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const id = profile.samples[i]!;
    total += dt;
    const stage = classify(id);
    stageMs.set(stage, (stageMs.get(stage) ?? 0) + dt);
    selfMs.set(id, (selfMs.get(id) ?? 0) + dt);
  }
  const busy = total - (stageMs.get('idle') ?? 0);
  const stages = [...stageMs.entries()]
    .filter(([s]) => s !== 'idle')
    .map(([stage, t]) => ({ stage, ms: t, share: t / busy }))
    .sort((a, b) => b.ms - a.ms);

  const byFn = new Map<string, { fn: string; where: string; ms: number }>();
  for (const [id, t] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const where = url ? `${short(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = byFn.get(key) ?? { fn: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += t;
    byFn.set(key, entry);
  }
  const top = [...byFn.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, topN)
    .map((e) => ({ ...e, share: e.ms / busy }));
  return { totalMs: total, busyMs: busy, stages, top };
}
