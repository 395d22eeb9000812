/**
 * `npm test`: every check and test suite of the project, one after another, each with a header,
 * then one closing line that totals the tests of every suite from the runners' machine-readable
 * reports (vitest's JSON reporter, the JUnit/summary files of schemathesis and pytest):
 *
 *   tests: 1612 passed, 0 failed, 2 skipped
 *
 * Exits non-zero when a check fails, a suite fails, a suite leaves no report, or a suite ran no
 * test. Every suite runs even after one failed, so one log shows all of them.
 *
 *   npm test                                   # everything
 *   CHANGEGATE_TEST_ONLY=main,schemathesis npm test   # a subset (names below)
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Step {
  name: string;
  title: string;
  command: string[];
  env?: Record<string, string>;
  /** Reads the suite's report; absent for checks (typecheck, lint) that count no tests. */
  report?: () => Counts;
}

const RESULTS = join(process.cwd(), 'test-results');

function vitestReport(file: string): () => Counts {
  return () => {
    const json = JSON.parse(readFileSync(file, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
      numFailedTestSuites: number;
    };
    // A test file that fails to load has no failed test, only a failed suite: count it.
    const failedFiles = json.numFailedTests === 0 ? json.numFailedTestSuites : 0;
    return {
      passed: json.numPassedTests,
      failed: json.numFailedTests + failedFiles,
      skipped: json.numPendingTests + json.numTodoTests,
    };
  };
}

function summaryReport(...files: string[]): () => Counts {
  return () =>
    files
      .map((file) => JSON.parse(readFileSync(file, 'utf8')) as Counts)
      .reduce(add, { passed: 0, failed: 0, skipped: 0 });
}

/** pytest's JUnit XML: one <testcase> per test; a <failure>/<error> or <skipped> child marks it. */
function junitReport(file: string): () => Counts {
  return () => {
    const xml = readFileSync(file, 'utf8');
    const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const c of cases) {
      if (/<(failure|error)\b/.test(c)) counts.failed += 1;
      else if (/<skipped\b/.test(c)) counts.skipped += 1;
      else counts.passed += 1;
    }
    return counts;
  };
}

function add(a: Counts, b: Counts): Counts {
  return {
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skipped: a.skipped + b.skipped,
  };
}

const vitest = (name: string, title: string, args: string[], env: Record<string, string> = {}) => {
  const file = join(RESULTS, `vitest-${name}.json`);
  return {
    name,
    title,
    command: [
      'vitest',
      'run',
      ...args,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${file}`,
    ],
    env,
    report: vitestReport(file),
  } satisfies Step;
};

const STEPS: Step[] = [
  {
    name: 'typecheck',
    title: 'type check (tsc --noEmit)',
    command: ['npm', 'run', '-s', 'typecheck'],
  },
  {
    name: 'lint',
    title: 'lint (eslint + prettier --check)',
    command: ['npm', 'run', '-s', 'lint'],
  },
  vitest(
    'main',
    'main suite: unit, integration, security and e2e tests on a real Kafka broker',
    [],
  ),
  vitest(
    'faults',
    'fault suite: broker, receiver and worker kills, ServiceNow faults',
    ['test/faults'],
    {
      CHANGEGATE_FAULTS: '1',
    },
  ),
  {
    name: 'schemathesis',
    title: 'schemathesis: the HTTP API fuzzed from its OpenAPI document, signed and unsigned',
    command: ['bash', 'scripts/schemathesis.sh'],
    env: { SCHEMATHESIS_REPORT_DIR: join(RESULTS, 'schemathesis') },
    report: summaryReport(
      join(RESULTS, 'schemathesis', 'signed', 'summary.json'),
      join(RESULTS, 'schemathesis', 'unsigned', 'summary.json'),
    ),
  },
  {
    name: 'pysnc',
    title: "pysnc: ServiceNow's own Python client driving the ServiceNow sandbox",
    command: ['bash', 'scripts/pysnc.sh'],
    env: { PYSNC_REPORT_DIR: join(RESULTS, 'pysnc') },
    report: junitReport(join(RESULTS, 'pysnc', 'junit.xml')),
  },
];

function main(): number {
  const only = process.env.CHANGEGATE_TEST_ONLY?.split(',').map((s) => s.trim());
  const steps = only ? STEPS.filter((s) => only.includes(s.name)) : STEPS;
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  console.log(`npm test on Node ${process.version}: ${steps.map((s) => s.name).join(', ')}`);

  const rows: { name: string; counts?: Counts; verdict: string }[] = [];
  let ok = true;
  steps.forEach((step, i) => {
    console.log(`\n==== ${i + 1}/${steps.length} ${step.title}`);
    const started = Date.now();
    const [cmd, ...args] = step.command;
    const run = spawnSync(cmd!, args, {
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
      shell: false,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const exit = run.status ?? 1;
    let counts: Counts | undefined;
    let verdict = exit === 0 ? 'ok' : `exit ${exit}`;
    if (step.report) {
      try {
        counts = step.report();
        if (counts.passed + counts.failed === 0) verdict = 'ran no test';
      } catch (error) {
        verdict = `no report (${(error as Error).message.split('\n')[0]})`;
      }
    }
    if (verdict !== 'ok') ok = false;
    rows.push({ name: step.name, counts, verdict: `${verdict}, ${seconds} s` });
    console.log(`==== ${step.name}: ${verdict} in ${seconds} s`);
  });

  const total = rows.reduce<Counts>((sum, r) => (r.counts ? add(sum, r.counts) : sum), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
  console.log('\nsuite          passed  failed  skipped  result');
  for (const r of rows) {
    const c = r.counts;
    const cells = c
      ? [c.passed, c.failed, c.skipped].map((n) => String(n).padStart(6)).join('  ')
      : '     -       -        -';
    console.log(`${r.name.padEnd(13)} ${cells}   ${r.verdict}`);
  }
  if (total.failed > 0) ok = false;
  const line = `tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`;
  // .ci/run prints it again as its very last line, after anything npm adds on a failure.
  writeFileSync(join(RESULTS, 'totals.txt'), `${line}\n`);
  console.log(`\n${line}`);
  return ok ? 0 : 1;
}

if (!existsSync('package.json')) throw new Error('run from the repository root (npm test)');
process.exitCode = main();
