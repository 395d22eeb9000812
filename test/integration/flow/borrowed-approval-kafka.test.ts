import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKafka, kafkaBrokers, uniqueTopic } from '../../support/kafka.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { audited, decisions, deploymentData, sendChangegate, theChange } from './flow-support.js';

/**
 * The borrowed-approval attack on real Kafka: a signed deployment of project B names project A's
 * approved CR. B must end rejected with the reason, never released, and no CR is created for it.
 */
describe.skipIf(!hasKafka())('a CR approves only what it was raised for (Kafka)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      brokers: kafkaBrokers(),
      topicPrefix: uniqueTopic('borrow'),
      config: {
        changes: {
          policies: [
            // Even a policy that links by number and allows reuse only reuses its own project's CRs.
            {
              name: 'b',
              match: { project: 'acme/b' },
              mode: 'normal',
              link: { byNumber: true, allowReuse: true },
            },
            { name: 'a', match: { project: 'acme/a' }, mode: 'normal' },
            { name: 'uncontrolled', match: {}, mode: 'none' },
          ],
        },
      },
    });
  });
  afterAll(async () => stack?.close());

  it("rejects project B naming project A's approved CR, with the reason", async () => {
    const urlA = stack.ci.generic.pending('a-1');
    await sendChangegate(
      stack,
      'generic/borrow',
      'requested',
      deploymentData('acme/a', 'a-1', { callback: { kind: 'generic', url: urlA } }),
    );
    const crA = await theChange(
      stack,
      'generic/borrow/acme/a/a-1',
      (r) => r.approval === 'requested',
    );
    stack.servicenow.admin.approve(crA.number!);
    await eventually(() => stack.ci.generic.state('a-1') === 'released', 30_000);
    const before = stack.servicenow.admin.records('change_request').length;

    const urlB = stack.ci.generic.pending('b-1');
    await sendChangegate(
      stack,
      'generic/borrow',
      'requested',
      deploymentData('acme/b', 'b-1', {
        callback: { kind: 'generic', url: urlB },
        changeNumber: crA.number,
      }),
    );
    await eventually(() => stack.ci.generic.state('b-1') === 'rejected', 30_000);
    const [call] = decisions(stack, new URL(urlB).pathname);
    expect(JSON.stringify(call?.body)).toContain(
      `${crA.number} belongs to another deployment (generic/borrow/acme/a/a-1) of another project`,
    );
    await audited(
      stack,
      (a) => a.action === 'link-refused' && a.correlationId === 'generic/borrow/acme/b/b-1',
    );
    expect(stack.servicenow.admin.records('change_request')).toHaveLength(before);
    expect(decisions(stack, new URL(urlB).pathname)).toHaveLength(1);
  }, 90_000);
});
