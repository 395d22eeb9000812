import { scanTags, textBetween, type XmlTag } from './xml.js';

/**
 * JUnit XML results, from the dialects CI tools write (Ant/Maven Surefire, Gradle, pytest,
 * jest-junit, go-junit-report): `<testsuites>` optional, `<testsuite>` possibly nested,
 * `<testcase>` with `<failure>`, `<error>` or `<skipped>` children.
 *
 * Counts come from the test cases when the report lists them (what really ran), else from the
 * `tests/failures/errors/skipped` attributes of the innermost suites (summary-only reports).
 *
 * @module
 */

export interface JunitFailure {
  /** `classname.name`, or `name` when there is no class. */
  test: string;
  suite?: string;
  kind: 'failure' | 'error';
  /** The `message` attribute, else the first line of the body; at most 300 characters. */
  message: string;
}

export interface JunitResult {
  tests: number;
  passed: number;
  /** Failures and errors together: both mean "not green". */
  failed: number;
  skipped: number;
  failures: JunitFailure[];
  /** Where the counts come from. */
  countedFrom: 'testcases' | 'suite-attributes' | 'nothing';
}

const MAX_MESSAGE = 300;
const MAX_FAILURES_KEPT = 1000;

const count = (attrs: Record<string, string>, name: string): number => {
  const n = Number.parseInt(attrs[name] ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

function oneLine(text: string): string {
  const line = text.trim().split(/\r?\n/, 1)[0]?.trim() ?? '';
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

interface OpenCase {
  tag: XmlTag;
  suite: string | undefined;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  failure?: { kind: 'failure' | 'error'; attrs: Record<string, string>; bodyFrom: number };
  message?: string;
}

/** Parse a JUnit XML document. Never throws: a malformed or cut report yields what it holds. */
export function parseJunit(xml: string): JunitResult {
  const suites: { name: string | undefined; attrs: Record<string, string>; hasChild: boolean }[] =
    [];
  const fromAttrs = { tests: 0, failed: 0, skipped: 0 };
  const fromCases = { tests: 0, failed: 0, skipped: 0 };
  const failures: JunitFailure[] = [];
  let open: OpenCase | undefined;

  const closeCase = () => {
    if (!open) return;
    fromCases.tests++;
    if (open.outcome === 'failure' || open.outcome === 'error') {
      fromCases.failed++;
      if (failures.length < MAX_FAILURES_KEPT) {
        const { name = '(unnamed)', classname } = open.tag.attrs;
        failures.push({
          test: classname ? `${classname}.${name}` : name,
          ...(open.suite ? { suite: open.suite } : {}),
          kind: open.outcome,
          message: open.message ?? '',
        });
      }
    } else if (open.outcome === 'skipped') fromCases.skipped++;
    open = undefined;
  };

  const closeSuite = () => {
    const suite = suites.pop();
    if (!suite || suite.hasChild) return;
    // Innermost suites only: outer ones repeat the sums of their children.
    const a = suite.attrs;
    fromAttrs.tests += count(a, 'tests');
    fromAttrs.failed += count(a, 'failures') + count(a, 'errors');
    fromAttrs.skipped += count(a, 'skipped') + count(a, 'disabled');
  };

  for (const tag of scanTags(xml)) {
    if (tag.name === 'testsuites' && tag.kind !== 'close') {
      // The root's totals stand in for a report that lists no suites at all.
      suites.push({ name: undefined, attrs: tag.attrs, hasChild: false });
      if (tag.kind === 'self') closeSuite();
    } else if (tag.name === 'testsuites') {
      closeCase();
      closeSuite();
    } else if (tag.name === 'testsuite') {
      if (tag.kind === 'close') {
        closeCase();
        closeSuite();
        continue;
      }
      const parent = suites.at(-1);
      if (parent) parent.hasChild = true;
      suites.push({ name: tag.attrs.name, attrs: tag.attrs, hasChild: false });
      if (tag.kind === 'self') closeSuite();
    } else if (tag.name === 'testcase') {
      closeCase();
      if (tag.kind === 'close') continue;
      open = { tag, suite: suites.at(-1)?.name, outcome: 'passed' };
      if (tag.kind === 'self') closeCase();
    } else if (open && (tag.name === 'failure' || tag.name === 'error')) {
      if (tag.kind === 'close') {
        if (open.failure && open.message === undefined) {
          open.message = oneLine(textBetween(xml, open.failure.bodyFrom, tag.start));
        }
        continue;
      }
      // An error outranks a failure; the first message wins.
      if (open.outcome !== 'error') open.outcome = tag.name;
      if (!open.failure) {
        open.failure = { kind: tag.name, attrs: tag.attrs, bodyFrom: tag.end };
        const message = tag.attrs.message ?? tag.attrs.type;
        if (message) open.message = oneLine(message);
        else if (tag.kind === 'self') open.message = '';
      }
    } else if (open && tag.name === 'skipped' && tag.kind !== 'close') {
      if (open.outcome === 'passed') open.outcome = 'skipped';
    }
  }
  closeCase();
  while (suites.length > 0) closeSuite();

  const source = fromCases.tests > 0 ? fromCases : fromAttrs;
  const countedFrom =
    fromCases.tests > 0 ? 'testcases' : fromAttrs.tests > 0 ? 'suite-attributes' : 'nothing';
  return {
    tests: source.tests,
    failed: source.failed,
    skipped: source.skipped,
    passed: Math.max(0, source.tests - source.failed - source.skipped),
    failures,
    countedFrom,
  };
}
