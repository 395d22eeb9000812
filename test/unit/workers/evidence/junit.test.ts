import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJunit } from '../../../../src/workers/evidence/junit.js';

const SUREFIRE = `<?xml version="1.0" encoding="UTF-8"?>
<!-- <testcase name="commented out"/> -->
<testsuites tests="5" failures="1" errors="1" skipped="1">
  <testsuite name="com.acme.PaymentTest" tests="3" failures="1" errors="0" skipped="1">
    <testcase name="pays" classname="com.acme.PaymentTest" time="0.01"/>
    <testcase name="refunds" classname="com.acme.PaymentTest">
      <failure message="expected &lt;200&gt; but was &lt;500&gt;" type="AssertionError">stack…</failure>
    </testcase>
    <testcase name="later" classname="com.acme.PaymentTest"><skipped/></testcase>
  </testsuite>
  <testsuite name="com.acme.LedgerTest" tests="2" failures="0" errors="1">
    <testcase name="books" classname="com.acme.LedgerTest">
      <error type="NullPointerException"><![CDATA[java.lang.NullPointerException: ledger <null>
\tat com.acme.Ledger.book(Ledger.java:42)]]></error>
    </testcase>
    <testcase name="balances" classname="com.acme.LedgerTest"><system-out><![CDATA[<testcase name="fake"/>]]></system-out></testcase>
  </testsuite>
</testsuites>`;

describe('parseJunit', () => {
  it('counts passed, failed and skipped from the test cases of a Surefire report', () => {
    const r = parseJunit(SUREFIRE);
    expect(r).toMatchObject({
      tests: 5,
      passed: 2,
      failed: 2,
      skipped: 1,
      countedFrom: 'testcases',
    });
  });

  it('lists failures with class, name and the decoded message, errors included', () => {
    const r = parseJunit(SUREFIRE);
    expect(r.failures).toEqual([
      {
        test: 'com.acme.PaymentTest.refunds',
        suite: 'com.acme.PaymentTest',
        kind: 'failure',
        message: 'expected <200> but was <500>',
      },
      {
        test: 'com.acme.LedgerTest.books',
        suite: 'com.acme.LedgerTest',
        kind: 'error',
        message: 'NullPointerException',
      },
    ]);
  });

  it('takes the first body line as the message when the failure has no attributes', () => {
    const r = parseJunit(
      '<testsuite><testcase name="t"><failure><![CDATA[boom: x < y\nmore]]></failure></testcase></testsuite>',
    );
    expect(r.failures[0]).toMatchObject({ test: 't', message: 'boom: x < y' });
  });

  it('falls back to the innermost suite attributes of a summary-only report', () => {
    const r = parseJunit(`<testsuites tests="99" failures="9">
      <testsuite name="a" tests="10" failures="2" errors="1" skipped="3"/>
      <testsuite name="b" tests="5" failures="0" disabled="1"></testsuite>
    </testsuites>`);
    expect(r).toMatchObject({
      tests: 15,
      failed: 3,
      skipped: 4,
      passed: 8,
      countedFrom: 'suite-attributes',
    });
  });

  it('uses the root totals when the report lists no suites', () => {
    expect(parseJunit('<testsuites tests="4" failures="1"/>')).toMatchObject({
      tests: 4,
      failed: 1,
      passed: 3,
    });
  });

  it('reads namespaced tags and single-quoted attributes with a > inside', () => {
    const r = parseJunit(
      `<j:testsuite><j:testcase name='a>b'><j:failure message='x'/></j:testcase></j:testsuite>`,
    );
    expect(r.failures).toEqual([{ test: 'a>b', kind: 'failure', message: 'x' }]);
  });

  it('counts what it saw in a report cut in the middle', () => {
    const cut = SUREFIRE.slice(0, SUREFIRE.indexOf('<testcase name="later"') + 10);
    // The half-written third testcase tag is not a tag yet.
    expect(parseJunit(cut)).toMatchObject({ tests: 2, failed: 1, passed: 1 });
  });

  it('never throws and never reports negative or inconsistent counts on arbitrary input', () => {
    const pieces = fc.constantFrom(
      '<testsuite tests="3" failures="1">',
      '</testsuite>',
      '<testcase name="x">',
      '</testcase>',
      '<testcase name="y"/>',
      '<failure message="m">',
      '</failure>',
      '<skipped/>',
      '<error/>',
      '<![CDATA[',
      ']]>',
      '<!--',
      '-->',
      'text & <',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 40 }), (parts) => {
        const r = parseJunit(parts.join(''));
        expect(r.passed + r.failed + r.skipped).toBe(r.tests);
        expect(Math.min(r.passed, r.failed, r.skipped)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });
});
