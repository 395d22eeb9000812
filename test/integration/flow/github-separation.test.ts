import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromRecord } from '../../../src/bus/cloudevents.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { SECRETS, eventually, startStack, type Stack } from '../../support/stack.js';
import { auditTrail, post, theChange } from './flow-support.js';

/**
 * Separation of duties on GitHub, end to end in one process: a protection request carries no
 * commit author, so the change worker reads the deployed commit from GitHub (the emulator's
 * `GET /repos/{owner}/{repo}/commits/{sha}`), and the gate compares its author with the CR's
 * approvers. Link by number is off (its default): the read is made for separation of duties alone.
 */

const OWNER = 'Codertocat';
const REPO = 'Hello-World';
// GitHub's own fixture (the synthetic protection request) names this installation.
const fixture = githubFixture('synthetic-deployment_protection_rule.requested');
const INSTALLATION = String((fixture.installation as { id: number }).id);

let stack: Stack;
beforeAll(async () => {
  // Jane's git e-mail is the ServiceNow user cab.approver (who approves at CAB).
  const identities = { 'jane@acme.example': 'cab.approver' };
  stack = await startStack({
    config: {
      changes: {
        policies: [
          { name: 'held', match: { environment: 'prod-held' }, mode: 'normal', gate: 'hold' },
          { name: 'production', match: { environment: 'prod*' }, mode: 'normal' },
          { name: 'uncontrolled', match: {}, mode: 'none' },
        ],
      },
      gates: {
        policies: {
          default: { separationOfDuties: { identities } },
          hold: { separationOfDuties: { identities, onViolation: 'hold' } },
        },
      },
    },
  });
});
afterAll(async () => stack?.close());

/** A protection request for run `runId` deploying `sha` to `environment`. */
async function requestDeployment(runId: number, sha: string, environment = 'production') {
  const payload = githubFixture('synthetic-deployment_protection_rule.requested');
  payload.deployment_callback_url = stack.ci.github.pending(OWNER, REPO, runId, environment);
  payload.environment = environment;
  (payload.deployment as { sha: string }).sha = sha;
  const res = await post(
    stack,
    'github',
    githubRequest('deployment_protection_rule', payload, {
      secret: SECRETS.github,
      deliveryId: `sod-${runId}`,
    }),
  );
  expect(res.status).toBe(202);
  return theChange(
    stack,
    `github/${OWNER}/${REPO}/run-${runId}-${environment}`,
    (r) => r.approval === 'requested',
  );
}

const reviewsOf = (runId: number) =>
  stack.ci
    .received()
    .filter((c) => c.path.endsWith(`/actions/runs/${runId}/deployment_protection_rule`));

describe('GitHub separation of duties against the deployed commit', () => {
  it("rejects the deployment when its commit's author approved the CR, with the reason", async () => {
    const sha = 'feed000000000000000000000000000000000001';
    stack.ci.github.commit(OWNER, REPO, sha, 'Refunds', INSTALLATION, {
      author: { name: 'Jane Doe', email: 'jane@acme.example', login: 'jdoe' },
    });
    const cr = await requestDeployment(5001, sha);
    stack.servicenow.admin.approve(cr.number!);

    const review = await stack.ci.waitFor(
      (c) => c.path.endsWith('/actions/runs/5001/deployment_protection_rule'),
      10_000,
    );
    const reason =
      "separation of duties: cab.approver approved, and is the deployment's commit author (jane@acme.example is mapped to cab.approver)";
    expect(review.body).toMatchObject({ environment_name: 'production', state: 'rejected' });
    expect((review.body as { comment: string }).comment).toContain(reason);
    expect(reviewsOf(5001)).toHaveLength(1);

    const audit = await eventually(async () =>
      (await auditTrail(stack)).find((a) => a.action === 'gate.rejected' && a.key === cr.number),
    );
    expect(audit.reason).toBe(reason);
    // The gate knew the author from the commit read, once, with the protection request's token.
    const reads = stack.ci.received().filter((c) => c.path.endsWith(`/commits/${sha}`));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ status: 200, effect: 'read' });
    const registered = await gateRegistered(cr.number!);
    expect(registered.people).toMatchObject({
      actor: { login: 'Codertocat' },
      pullRequestAuthor: { login: 'Codertocat' },
      commitAuthor: { login: 'jdoe', name: 'Jane Doe', email: 'jane@acme.example' },
    });
  });

  it('holds the deployment instead where the policy says hold: GitHub and the ledger are told why, nothing is decided', async () => {
    const sha = 'feed000000000000000000000000000000000003';
    stack.ci.github.commit(OWNER, REPO, sha, 'Refunds', INSTALLATION, {
      author: { name: 'Jane Doe', email: 'jane@acme.example', login: 'jdoe' },
    });
    const cr = await requestDeployment(5003, sha, 'prod-held');
    stack.servicenow.admin.approve(cr.number!);

    // The gate read who approved (the point where it would release) and decided nothing.
    await eventually(() =>
      stack.servicenow.admin
        .requests()
        .find(
          (r) =>
            r.path === '/api/now/table/sysapproval_approver' &&
            decodeURIComponent(r.query).includes(cr.sys_id!),
        ),
    );
    // It says why on the run (a status report: a review with no state) and in the ledger, once.
    const held = await eventually(async () =>
      (await auditTrail(stack)).find((a) => a.action === 'gate.held' && a.key === cr.number),
    );
    expect(held.reason).toMatch(/held for another approval$/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const calls = reviewsOf(5003);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ environment_name: 'prod-held' });
    expect(calls[0]!.body).not.toHaveProperty('state');
    expect(String((calls[0]!.body as { comment: string }).comment)).toContain(held.reason);
    expect(stack.ci.github.state(OWNER, REPO, 5003, 'prod-held')).toBe('pending');
    const audit = await auditTrail(stack);
    expect(audit.filter((a) => a.key === cr.number && a.action.startsWith('gate.'))).toEqual([
      held,
    ]);
  });

  it('releases the deployment when someone other than its commit author approved', async () => {
    const sha = 'feed000000000000000000000000000000000002';
    stack.ci.github.commit(OWNER, REPO, sha, 'Ledger', INSTALLATION, {
      author: { name: 'Pat Smith', email: 'pat@acme.example', login: 'psmith' },
    });
    const cr = await requestDeployment(5002, sha);
    stack.servicenow.admin.approve(cr.number!);

    const review = await stack.ci.waitFor(
      (c) => c.path.endsWith('/actions/runs/5002/deployment_protection_rule'),
      10_000,
    );
    expect(review.body).toMatchObject({ environment_name: 'production', state: 'approved' });
    const released = await eventually(async () =>
      (await auditTrail(stack)).find((a) => a.action === 'gate.released' && a.key === cr.number),
    );
    const approvedBy = (released.detail as { approvedBy: { userName?: string }[] }).approvedBy;
    expect(approvedBy.map((a) => a.userName)).toEqual(['tech.approver', 'cab.approver']);
    expect((await gateRegistered(cr.number!)).people).toMatchObject({
      commitAuthor: { login: 'psmith', email: 'pat@acme.example' },
    });
  });
});

/** The gate.registered event of a CR, from the changes topic. */
async function gateRegistered(number: string) {
  return eventually(async () => {
    let found: { people?: Record<string, unknown> } | undefined;
    await stack.bus.readToEnd(stack.config.kafka.topics.changes, (record) => {
      const event = fromRecord(record);
      const data = event.data as { changeNumber?: string; people?: Record<string, unknown> };
      if (event.type === 'dev.changegate.gate.registered' && data.changeNumber === number)
        found = data;
    });
    return found;
  });
}
