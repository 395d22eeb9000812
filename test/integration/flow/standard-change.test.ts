import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEMPLATES } from '../../../src/sandbox/servicenow/index.js';
import { eventually, startStack, type Stack } from '../../support/stack.js';
import { audited, changesOf, decisions, deploymentData, sendChangegate } from './flow-support.js';

/**
 * Standard changes on an instance whose template create drops every field the template lacks
 * (correlation_id, description: Change Management API, POST /change/standard/{id}). changegate
 * tags the CR with a Table API PATCH in the same step; these tests break that step in between.
 */
const TEMPLATE = DEFAULT_TEMPLATES[0]!;
const ROUTE = 'generic/std';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    config: {
      changes: {
        policies: [
          {
            name: 'standard-releases',
            match: { project: 'acme/catalog' },
            mode: 'standard',
            template: TEMPLATE.name,
          },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
    },
  });
});
afterAll(async () => stack?.close());

const correlation = (id: string) => `${ROUTE}/acme/catalog/${id}`;

async function request(name: string, id: string) {
  const url = stack.ci.generic.pending(name);
  const status = await sendChangegate(
    stack,
    ROUTE,
    'requested',
    deploymentData('acme/catalog', id, { callback: { kind: 'generic', url } }),
  );
  expect(status).toBe(202);
  return new URL(url).pathname;
}

/** Requests to the standard-change create since `from` (an index into the request log). */
const standardPosts = (from: number) =>
  stack.servicenow.admin
    .requests()
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path.includes('/change/standard/'));

/** Every standard CR created from this test's template with this deployment's title. */
const standardCrs = () =>
  stack.servicenow.admin.records('change_request').filter((r) => r.type === 'standard');

describe('standard changes on a real instance', () => {
  it('tags the CR after the template create, finds it again on redelivery, and releases', async () => {
    const from = stack.servicenow.admin.requests().length;
    const path = await request('std-a', 'std-a');
    await eventually(() => stack.ci.generic.state('std-a') === 'released');
    const [cr] = changesOf(stack, correlation('std-a'));
    expect(cr).toMatchObject({
      type: 'standard',
      approval: 'approved',
      correlation_id: correlation('std-a'),
    });
    // The description is not a template field: only the PATCH can have set it.
    expect(cr!.description).toContain('Automated deployment by changegate');

    // A second delivery of the same deployment (a redelivery) finds the CR by correlation id.
    await sendChangegate(
      stack,
      ROUTE,
      'requested',
      deploymentData('acme/catalog', 'std-a', {
        callback: { kind: 'generic', url: stack.ci.generic.pending('redelivered-a') },
      }),
    );
    await audited(
      stack,
      (a) => a.action === 'change.linked' && a.correlationId === correlation('std-a'),
    );
    expect(changesOf(stack, correlation('std-a'))).toHaveLength(1);
    expect(standardPosts(from)).toHaveLength(1);
    expect(decisions(stack, path)).toHaveLength(1);
  });

  it('recovers the untagged CR when the step fails between the create and the PATCH', async () => {
    const from = stack.servicenow.admin.requests().length;
    const before = standardCrs().length;
    // The create lands; the tagging PATCH fails once, so the handler fails and the event is
    // delivered again, as after a crash between the two calls.
    stack.servicenow.admin.faults.inject({
      kind: '500',
      method: 'PATCH',
      path: '/api/now/table/change_request/*',
      count: 1,
    });
    const path = await request('std-b', 'std-b');
    await eventually(() => stack.ci.generic.state('std-b') === 'released');
    expect(standardPosts(from)).toHaveLength(1);
    expect(standardCrs()).toHaveLength(before + 1);
    const [cr] = changesOf(stack, correlation('std-b'));
    expect(cr?.correlation_id).toBe(correlation('std-b'));
    const failed = stack.servicenow.admin
      .requests()
      .slice(from)
      .filter((r) => r.method === 'PATCH' && r.status === 500);
    expect(failed).toHaveLength(1);
    expect(decisions(stack, path)).toHaveLength(1);
  });

  it('recovers a create whose answer was lost without posting it twice', async () => {
    const from = stack.servicenow.admin.requests().length;
    const before = standardCrs().length;
    stack.servicenow.admin.faults.inject({
      kind: 'reset-after-commit',
      method: 'POST',
      path: '/api/sn_chg_rest/change/standard/*',
      count: 1,
    });
    await request('std-c', 'std-c');
    await eventually(() => stack.ci.generic.state('std-c') === 'released');
    expect(standardPosts(from)).toHaveLength(1);
    expect(standardCrs()).toHaveLength(before + 1);
    expect(changesOf(stack, correlation('std-c'))).toHaveLength(1);
  });
});
