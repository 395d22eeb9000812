import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkersRuntime } from '../../../src/runtime/workers.js';
import { startChatReceiver, type ChatReceiver } from '../../../src/sandbox/chat/index.js';
import { hasKafka, kafkaBrokers, uniqueTopic } from '../../support/kafka.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { JUNIT, audits, deploymentRequested, postJenkins, startMore } from './evidence-harness.js';

describe.skipIf(!hasKafka())('evidence and notify workers on real Kafka', () => {
  let stack: Stack;
  let chat: ChatReceiver;
  let more: WorkersRuntime;

  beforeAll(async () => {
    chat = await startChatReceiver();
    const prefix = uniqueTopic('evk');
    stack = await startStack({
      brokers: kafkaBrokers(),
      topicPrefix: prefix,
      config: {
        // The first consumer-group joins on fresh topics can take seconds: wait longer for the CR.
        evidence: { lookup: { attempts: 14, baseDelayMs: 100, maxDelayMs: 2000 } },
        notify: {
          stateTopic: `${prefix}.notify-state`,
          channels: [
            {
              name: 'ops',
              kind: 'slack',
              url: chat.slackUrl('ops'),
              reasons: ['emergency-approval'],
            },
          ],
        },
      },
    });
    more = await startMore(stack, ['evidence', 'notify']);
  });
  afterAll(async () => {
    await more?.close();
    await stack?.close();
    await chat?.close();
  });

  it('attaches the JUnit report once, writes the summary, and announces the emergency CR once', async () => {
    await postJenkins(stack, deploymentRequested('k-1', { emergency: true }));
    const report = {
      type: 'test.reported',
      timestamp: new Date().toISOString(),
      data: {
        project: 'acme/payments',
        environment: 'production',
        deploymentId: 'k-1',
        reports: [{ format: 'junit', name: 'junit.xml', content: JUNIT }],
      },
    };
    await postJenkins(stack, report, 'msg_k1_report');
    const cr = await eventually(
      () =>
        stack.servicenow.admin
          .records('change_request')
          .find((r) => r.correlation_id === 'jenkins/acme/payments/k-1'),
      20_000,
    );
    const note = await eventually(
      () =>
        stack.servicenow.admin
          .records('sys_journal_field')
          .find(
            (j) => j.element_id === cr.sys_id && j.value?.startsWith('changegate: test evidence'),
          ),
      20_000,
    );
    expect(note.value).toContain('Tests FAILED: 2 passed, 1 failed, 1 skipped (from junit.xml)');
    const post = await chat.waitFor((p) => JSON.stringify(p.body).includes(cr.number!), 20_000);
    expect(JSON.stringify(post.body)).toContain(
      `nav_to.do?uri=change_request.do?sys_id=${cr.sys_id}`,
    );

    // Same report again under a new delivery id: a new event, same files → nothing new attached.
    await postJenkins(stack, report, 'msg_k1_report_again');
    await eventually(
      async () => (await audits(stack, 'evidence.already-attached')).length === 1,
      20_000,
    );
    const files = stack.servicenow.admin
      .records('sys_attachment')
      .filter((a) => a.table_sys_id === cr.sys_id);
    expect(files.map((f) => [f.file_name, f.content_type])).toEqual([
      ['junit.xml', 'application/xml'],
    ]);
    expect(chat.accepted().filter((p) => JSON.stringify(p.body).includes(cr.number!))).toHaveLength(
      1,
    );
  }, 60_000);
});
