import { describe, expect, it } from 'vitest';
import { capBytes, contentTypeOf, safeFileName } from '../../../../src/workers/evidence/content.js';
import { buildSummaryNote, summaryMarker } from '../../../../src/workers/evidence/summary.js';
import { parseJunit } from '../../../../src/workers/evidence/junit.js';
import { TestReportedDataSchema } from '../../../../src/events/cicd.js';

describe('evidence content', () => {
  it('gives JUnit, SARIF and logs their registered content types', () => {
    expect(contentTypeOf('junit')).toBe('application/xml');
    expect(contentTypeOf('sarif')).toBe('application/sarif+json');
    expect(contentTypeOf('log', 'application/json')).toBe('text/plain');
    expect(contentTypeOf('other', 'application/pdf')).toBe('application/pdf');
    expect(contentTypeOf('other', 'not a type')).toBe('application/octet-stream');
  });

  it('keeps only the last path segment of a report name, without hostile characters', () => {
    expect(safeFileName('../../etc/passwd', 'log')).toBe('passwd');
    expect(safeFileName('build\\reports\\junit <unit>.xml', 'junit')).toBe('junit _unit_.xml');
    expect(safeFileName('///', 'sarif')).toBe('results.sarif');
  });

  it('leaves a report under the cap untouched', () => {
    const bytes = Buffer.from('small');
    expect(capBytes(bytes, 1024)).toEqual({ bytes, truncated: false, originalBytes: 5 });
  });

  it('cuts a report over the cap to exactly fit, on a character boundary, with a note', () => {
    const big = Buffer.from('é'.repeat(5000)); // 10000 bytes, 2 per character
    const capped = capBytes(big, 2048);
    expect(capped.truncated).toBe(true);
    expect(capped.bytes.length).toBeLessThanOrEqual(2048);
    const text = Buffer.from(capped.bytes).toString('utf8');
    expect(text).not.toContain('\uFFFD');
    expect(text).toMatch(
      /\[changegate: truncated: the report has 10000 bytes; the first \d+ are attached\]\n$/,
    );
  });

  it('writes a summary with counts, top failures, cut files and a marker', () => {
    const data = TestReportedDataSchema.parse({
      provider: 'jenkins',
      project: 'acme/payments',
      event: 'test.reported',
      deliveryId: 'd1',
      raw: { truncated: false, bytes: 0, payload: null },
      environment: 'production',
      run: { id: '142', url: 'https://ci.example/142' },
    });
    const junit = parseJunit(
      '<testsuite><testcase name="a"/><testcase name="b" classname="C"><failure message="bad"/></testcase></testsuite>',
    );
    const marker = summaryMarker('/changegate/jenkins', 'evt-1');
    const note = buildSummaryNote({
      data,
      marker,
      topFailures: 5,
      outcomes: [
        {
          name: 'junit.xml',
          format: 'junit',
          contentType: 'application/xml',
          status: 'attached',
          bytes: 300,
          originalBytes: 300,
          junit,
        },
        {
          name: 'big.log',
          format: 'log',
          contentType: 'text/plain',
          status: 'attached',
          bytes: 5 * 1024 * 1024,
          originalBytes: 12 * 1024 * 1024,
          truncated: true,
        },
        {
          name: 'x.sarif',
          format: 'sarif',
          contentType: 'application/sarif+json',
          status: 'refused',
          reason: 'evil.example matches no entry',
        },
      ],
    });
    expect(note).toContain('acme/payments → production — run 142 https://ci.example/142');
    expect(note).toContain('Tests FAILED: 1 passed, 1 failed, 0 skipped (from junit.xml)');
    expect(note).toContain('1. C.b: bad');
    expect(note).toContain(
      'big.log (text/plain, 5.0 MiB) — TRUNCATED to the first 5.0 MiB of 12.0 MiB',
    );
    expect(note).toContain('x.sarif: refused: evil.example matches no entry');
    expect(note.endsWith(`[${marker}]`)).toBe(true);
    expect(marker).toMatch(/^changegate-evidence-[0-9a-f]{20}$/);
  });
});
