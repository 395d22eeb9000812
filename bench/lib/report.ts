/**
 * BENCHMARKS.md is written by the bench run itself: each benchmark returns a section (Markdown
 * plus its goals), and the file is rebuilt from the sections of this run and the sections an
 * earlier run left for benchmarks not selected now. Text between `<!-- notes -->` and
 * `<!-- /notes -->` is kept as written by hand.
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { KAFKA_VERSION } from '../../scripts/kafka-local.js';

export interface Goal {
  goal: string;
  target: string;
  measured: string;
  /** null when this run could not measure it. */
  met: boolean | null;
  /** By how much, and what bounds it. */
  note: string;
}

export interface Section {
  id: string;
  title: string;
  body: string;
  goals: Goal[];
}

/** Sections appear in this order, whatever order they ran in. */
export const SECTION_ORDER = [
  'ingest',
  'spool',
  'gate',
  'scaling',
  'gate-state',
  'gate-failover',
  'workers',
  'profile',
];

/** One line about where and how a section was measured. */
export function runLine(command: string): string {
  const cpu = cpus();
  return [
    `Measured ${new Date().toISOString()} with \`${command}\``,
    `on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM,`,
    `Node ${process.version}, Kafka ${KAFKA_VERSION} (single KRaft broker on 127.0.0.1:39092).`,
  ].join(' ');
}

const open = (id: string) => `<!-- section:${id} -->`;
const close = (id: string) => `<!-- /section:${id} -->`;

function parseSections(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const re = /<!-- section:([\w-]+) -->\n([\s\S]*?)\n<!-- \/section:\1 -->/g;
  for (const m of text.matchAll(re)) found.set(m[1]!, m[2]!);
  return found;
}

function goalsOf(sectionText: string): Goal[] {
  const m = /<!-- goals (.*) -->/.exec(sectionText);
  if (!m) return [];
  try {
    return JSON.parse(m[1]!) as Goal[];
  } catch {
    return [];
  }
}

function render(section: Section): string {
  return [
    `## ${section.title}`,
    '',
    section.body.trim(),
    '',
    `<!-- goals ${JSON.stringify(section.goals)} -->`,
  ].join('\n');
}

function verdict(goal: Goal): string {
  if (goal.met === null) return 'not measured';
  return goal.met ? '**met**' : '**missed**';
}

/** Merge `sections` into the file at `path` and rewrite the summary. */
export function writeReport(path: string, sections: Section[], command: string): void {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const bodies = parseSections(previous);
  for (const s of sections) bodies.set(s.id, render(s));
  const notes = /<!-- notes -->\n([\s\S]*?)\n<!-- \/notes -->/.exec(previous)?.[1] ?? '';

  const goals = SECTION_ORDER.flatMap((id) => (bodies.has(id) ? goalsOf(bodies.get(id)!) : []));
  const summary = [
    '| goal (issue #8) | target | measured | verdict | by how much / what bounds it |',
    '| --- | --- | --- | --- | --- |',
    ...goals.map((g) => `| ${g.goal} | ${g.target} | ${g.measured} | ${verdict(g)} | ${g.note} |`),
  ].join('\n');

  const ordered = [
    ...SECTION_ORDER.filter((id) => bodies.has(id)),
    ...[...bodies.keys()].filter((id) => !SECTION_ORDER.includes(id)),
  ];
  const text = [
    '# changegate benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit the generated sections by hand —',
    're-run instead (`npm run bench -- <name>` refreshes one section and keeps the others).',
    'The machine is small and shared, so every throughput figure is compared with a baseline',
    'measured side by side in the same run, and latencies are full distributions.',
    '',
    `Last run: ${runLine(command)}`,
    '',
    '## Goals',
    '',
    summary,
    '',
    '<!-- notes -->',
    notes,
    '<!-- /notes -->',
    '',
    ...ordered.flatMap((id) => [open(id), bodies.get(id)!, close(id), '']),
  ].join('\n');
  writeFileSync(path, text);
}
