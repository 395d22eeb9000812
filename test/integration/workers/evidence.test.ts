import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import type { WorkersRuntime } from '../../../src/runtime/workers.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import {
  JUNIT,
  SARIF,
  audits,
  deploymentRequested,
  postJenkins,
  startArtifactServer,
  startMore,
  type ArtifactServer,
} from './evidence-harness.js';

let stack: Stack;
let more: WorkersRuntime;
let artifacts: ArtifactServer;
const fetched: string[] = [];

beforeAll(async () => {
  artifacts = await startArtifactServer({
    'junit-unit.xml': JUNIT,
    'huge.log': 'x'.repeat(300_000),
  });
  stack = await startStack({
    config: {
      evidence: {
        maxAttachmentBytes: 100_000,
        fetch: { allowLoopback: true, allowList: ['ci.acme.example'], timeoutMs: 2000 },
        lookup: { attempts: 8, baseDelayMs: 50, maxDelayMs: 400 },
      },
    },
  });
  // Every request the workers make, so a test can say "no request went there".
  const spy: typeof fetch = (input, init) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return fetch(input, init);
  };
  more = await startMore(stack, ['evidence'], spy);
});
afterAll(async () => {
  await more?.close();
  await stack?.close();
  await artifacts?.close();
});

const crOf = (correlationId: string) =>
  eventually(() =>
    stack.servicenow.admin
      .records('change_request')
      .find((r) => r.correlation_id === correlationId),
  );
const attachmentsOf = (sysId: string) =>
  stack.servicenow.admin.records('sys_attachment').filter((a) => a.table_sys_id === sysId);
const notesOf = (sysId: string) =>
  stack.servicenow.admin
    .records('sys_journal_field')
    .filter(
      (j) =>
        j.element_id === sysId &&
        j.element === 'work_notes' &&
        j.value?.startsWith('changegate: test evidence'),
    );

function testReported(deploymentId: string, reports: unknown[], summary?: unknown) {
  return {
    type: 'test.reported',
    timestamp: new Date().toISOString(),
    data: {
      project: 'acme/payments',
      environment: 'production',
      deploymentId,
      run: {
        id: `run-${deploymentId}`,
        url: `https://ci.acme.example/job/payments/${deploymentId}/`,
      },
      ...(summary ? { summary } : {}),
      reports,
    },
  };
}

describe('evidence worker against the ServiceNow sandbox (memory bus)', () => {
  it('attaches each report once with its content type and writes one readable summary', async () => {
    // The report arrives right behind the request: the worker waits for the CR to exist.
    await postJenkins(stack, deploymentRequested('ev-1'));
    await postJenkins(
      stack,
      testReported('ev-1', [
        {
          format: 'junit',
          name: 'junit-unit.xml',
          url: `${artifacts.url}/artifacts/junit-unit.xml`,
        },
        { format: 'sarif', name: 'semgrep.sarif', content: SARIF },
        { format: 'log', name: 'smoke.log', content: 'smoke: 14/14 passed\n' },
      ]),
    );
    const cr = await crOf('jenkins/acme/payments/ev-1');
    const note = await eventually(() => notesOf(cr.sys_id!)[0]);

    const files = attachmentsOf(cr.sys_id!);
    expect(files.map((f) => [f.file_name, f.content_type, f.size_bytes]).sort()).toEqual([
      ['junit-unit.xml', 'application/xml', String(Buffer.byteLength(JUNIT))],
      ['semgrep.sarif', 'application/sarif+json', String(Buffer.byteLength(SARIF))],
      ['smoke.log', 'text/plain', '20'],
    ]);
    const junit = files.find((f) => f.file_name === 'junit-unit.xml')!;
    const body = await fetch(`${stack.servicenow.url}/api/now/attachment/${junit.sys_id}/file`, {
      headers: {
        authorization: `Basic ${Buffer.from('changegate.integration:changegate').toString('base64')}`,
      },
    });
    expect(await body.text()).toBe(JUNIT);

    expect(note.value).toContain(
      'Tests FAILED: 2 passed, 1 failed, 1 skipped (from junit-unit.xml)',
    );
    expect(note.value).toContain(
      'Static analysis semgrep.sarif by semgrep: 1 error, 0 warning, 1 note',
    );
    expect(note.value).toContain('1. PaymentTest.refunds: expected 200 but was 500');
    expect(note.value).toContain('2. [xss] unescaped output');
    expect(notesOf(cr.sys_id!)).toHaveLength(1);
  });

  it('refuses a report URL outside the allow-list without requesting it, and says so', async () => {
    await postJenkins(stack, deploymentRequested('ev-2'));
    await postJenkins(
      stack,
      testReported(
        'ev-2',
        [
          {
            format: 'junit',
            name: 'stolen.xml',
            url: 'https://metadata.internal.example/latest/credentials',
          },
          { format: 'junit', name: 'moved.xml', url: `${artifacts.url}/moved/junit-unit.xml` },
          { format: 'log', name: 'ok.log', content: 'fine\n' },
        ],
        { passed: 10, failed: 0, skipped: 1 },
      ),
    );
    const cr = await crOf('jenkins/acme/payments/ev-2');
    const note = await eventually(() => notesOf(cr.sys_id!)[0]);
    expect(fetched.some((u) => u.includes('metadata.internal.example'))).toBe(false);
    expect(note.value).toContain(
      'stolen.xml: refused: report URL refused: metadata.internal.example matches no evidence.fetch.allowList entry',
    );
    // A redirect from an allowed host is not followed.
    expect(artifacts.hits).toContain('/moved/junit-unit.xml');
    expect(artifacts.hits.filter((h) => h === '/artifacts/junit-unit.xml')).toHaveLength(1); // ev-1 only
    expect(note.value).toContain(
      'moved.xml: unavailable: report download answered HTTP 302: redirect not followed',
    );
    expect(note.value).toContain(
      'Tests passed: 10 passed, 0 failed, 1 skipped (from the pipeline summary)',
    );
    expect(attachmentsOf(cr.sys_id!).map((f) => f.file_name)).toEqual(['ok.log']);
  });

  it('cuts a report over the size cap, notes it in the file and in the summary', async () => {
    await postJenkins(stack, deploymentRequested('ev-3'));
    await postJenkins(
      stack,
      testReported('ev-3', [
        { format: 'log', name: 'huge.log', url: `${artifacts.url}/artifacts/huge.log` },
      ]),
    );
    const cr = await crOf('jenkins/acme/payments/ev-3');
    const note = await eventually(() => notesOf(cr.sys_id!)[0]);
    const [file] = attachmentsOf(cr.sys_id!);
    expect(Number(file!.size_bytes)).toBeLessThanOrEqual(100_000);
    expect(Number(file!.size_bytes)).toBeGreaterThan(99_000);
    expect(note.value).toContain(
      'huge.log (text/plain, 97.7 KiB) — TRUNCATED to the first 97.7 KiB of 293.0 KiB',
    );
  });

  it('attaches nothing twice and writes no second summary when the event is redelivered', async () => {
    const cr = await crOf('jenkins/acme/payments/ev-1');
    const before = { files: attachmentsOf(cr.sys_id!).length, notes: notesOf(cr.sys_id!).length };
    let original: ConsumedRecord | undefined;
    await stack.bus.readToEnd(stack.config.kafka.topics.cicd, (r) => {
      const e = fromRecord(r);
      if (
        e.type === 'dev.changegate.test.reported' &&
        (e.data as { deploymentId?: string }).deploymentId === 'ev-1'
      )
        original = r;
    });
    const { topic, key, value, headers } = original!;
    await stack.bus.publish([{ topic, key, value, headers }]);

    await eventually(async () => (await audits(stack, 'evidence.summary-exists')).length > 0);
    expect(attachmentsOf(cr.sys_id!)).toHaveLength(before.files);
    expect(notesOf(cr.sys_id!)).toHaveLength(before.notes);
    expect((await audits(stack, 'evidence.already-attached')).length).toBe(3);
  });

  it('dead-letters a report whose change request never appears, with the reason', async () => {
    await postJenkins(
      stack,
      testReported('ev-none', [{ format: 'log', name: 'a.log', content: 'a' }]),
    );
    const dead = await eventually(async () => {
      let hit: ConsumedRecord | undefined;
      await stack.bus.readToEnd(stack.config.kafka.topics.dlq, (r) => {
        if (r.headers['changegate-worker'] === 'evidence') hit = r;
      });
      return hit;
    }, 15_000);
    expect(dead.headers['changegate-error']).toBe(
      '[changegate/workers/evidence] no change request with correlation_id jenkins/acme/payments/ev-none after 8 lookups',
    );
    expect(dead.headers['changegate-attempts']).toBe('1');
  });
});
