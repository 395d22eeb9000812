import type { Config } from '../config/schema.js';
import { DemoError } from './errors.js';
import type { DemoDeployment } from './github.js';
import { createNarrator, type Narrator } from './narrator.js';
import { observe } from './observer.js';
import { releaseFigures, type ReleaseFigures } from './release-figures.js';
import { approve, awaitDecision, decisionStampedAt } from './decision.js';
import { finishDeployment } from './finish.js';
import { awaitChange, requestDeployment, showHeld } from './request.js';
import { changeRecord, type DeploymentOutcome, type Scene } from './scene.js';
import { startDemoStack, type DemoStack } from './stack.js';
import { figureLines, SUMMARY_HEADER, summaryRows } from './summary.js';

export interface DemoOptions {
  /** Where the story goes; default stdout. */
  write?: (text: string) => void;
  colour?: boolean;
  /** Wait for a person to approve the first CR instead of approving it after `approveAfterMs`. */
  interactive?: boolean;
  approveAfterMs?: number;
  /** Longest wait for any one outcome before the demo fails. */
  timeoutMs?: number;
  /** Longest wait for a person in `--interactive`. */
  approvalTimeoutMs?: number;
  port?: number;
  logLevel?: Config['log']['level'];
}

export interface DemoResult {
  /** Still running: the caller closes it (or keeps it up for `--keep-running`). */
  stack: DemoStack;
  narrator: Narrator;
  outcomes: DeploymentOutcome[];
  figures: ReleaseFigures;
}

const MINUTE = 60_000;

const deploymentOf = (
  stack: DemoStack,
  runId: number,
  sha: string,
  title: string,
): DemoDeployment => ({
  owner: 'acme',
  repo: 'payments',
  runId,
  deploymentId: runId - 6_888_888_788,
  environment: 'production',
  sha,
  title,
  callbackUrl: stack.ci.github.pending('acme', 'payments', runId, 'production'),
});

/**
 * `changegate demo`: start everything in this process and tell the story of two production
 * deployments of acme/payments through ServiceNow change management — one approved, released
 * and closed successful, one that fails and is closed unsuccessful with a follow-up CR — then the
 * summary and the release figures from `/metrics`. Every step waits for its outcome.
 *
 * @throws DemoError naming the step that did not happen (the stack is closed then).
 * @example const { stack } = await runDemo(); await stack.close();
 */
export async function runDemo({
  write = (text) => void process.stdout.write(text),
  colour = false,
  interactive = false,
  approveAfterMs = 1_500,
  timeoutMs = 20_000,
  approvalTimeoutMs = 15 * MINUTE,
  port = 0,
  logLevel = 'silent',
}: DemoOptions = {}): Promise<DemoResult> {
  const narrator = createNarrator({ write, colour, start: performance.now() });
  const { paint } = narrator;
  narrator.blank();
  narrator.detail(
    paint.bold('changegate demo') +
      paint.dim(' — CI/CD → ServiceNow change management, in one process'),
  );

  const stack = await startDemoStack({ port, logLevel });
  try {
    const observer = await observe(
      stack.bus,
      [stack.config.kafka.topics.changes],
      'changegate-demo-observer',
    );
    const scene: Scene = { stack, observer, narrator, timeoutMs };

    narrator.chapter('What is running');
    narrator.say(
      `changegate receiver   ${paint.cyan(stack.receiver.url)}   POST /hooks/github · /hooks/servicenow · GET /metrics`,
    );
    narrator.say(
      `ServiceNow sandbox    ${paint.cyan(stack.servicenow.url)}   Table + Change API, business rule → changegate`,
    );
    narrator.say(
      `CI emulator (GitHub)  ${paint.cyan(stack.ci.url)}   App tokens, deployment protection rule reviews`,
    );
    narrator.detail(
      paint.dim(
        'change, gate, incident and cmdb workers on the embedded in-memory bus (Kafka semantics; for trying out, not production)',
      ),
    );
    narrator.detail(paint.dim(`Node.js ${process.version}`));

    narrator.chapter('GitHub asks: may acme/payments deploy to production?');
    const first = deploymentOf(
      stack,
      8_123_456_789,
      '7638417db6d59f3c431d3e1f261cc637155684cd',
      'Add idempotent refunds',
    );
    const acceptedAt = await requestDeployment(scene, first, { showDefences: true });

    narrator.chapter('The change worker opens a change request in ServiceNow');
    let one = await awaitChange(scene, first, acceptedAt);

    narrator.chapter('The deployment is held until the change is approved');
    showHeld(scene, one);
    if (interactive) {
      const cr = changeRecord(stack, one.number);
      narrator.say(
        paint.yellow(
          `waiting for you to approve ${one.number} (or reject it) — run in another terminal:`,
        ),
      );
      narrator.detail(
        paint.bold(
          `npm run changegate -- sandbox approve ${one.number} --url ${stack.servicenow.url}`,
        ),
      );
      narrator.detail(
        paint.dim(
          `or: curl -X POST ${stack.servicenow.url}/sandbox/admin/changes/${one.number}/approve`,
        ),
      );
      one = await awaitDecision(scene, one, {
        approvedAt: () => decisionStampedAt(stack, cr.sys_id ?? ''),
        byPerson: true,
        timeoutMs: approvalTimeoutMs,
      });
    } else {
      narrator.say(
        paint.dim(`(a change manager takes a moment: approving in ${approveAfterMs} ms)`),
      );
      await new Promise((r) => setTimeout(r, approveAfterMs));
      const approvedAt = approve(scene, one, 'Approved by CAB (changegate demo)');
      one = await awaitDecision(scene, one, { approvedAt: () => approvedAt });
    }

    narrator.chapter('The deployments run: one succeeds, one fails');
    if (one.gate === 'released') one = await finishDeployment(scene, one, 'success');
    else
      narrator.say(
        `run ${first.runId} was ${one.gate}: nothing to deploy, ${one.number} stays as ServiceNow left it`,
      );

    narrator.blank();
    narrator.detail(
      paint.dim('a second release of acme/payments: approved at once, but its smoke tests fail'),
    );
    const second = deploymentOf(
      stack,
      8_123_456_790,
      '9f1c2e4b7a3d5c6e8f0a1b2c3d4e5f6a7b8c9d0e',
      'Switch refunds to the new ledger',
    );
    const secondAccepted = await requestDeployment(scene, second, { showDefences: false });
    let two = await awaitChange(scene, second, secondAccepted);
    const secondApprovedAt = approve(scene, two, 'Approved (changegate demo)');
    two = await awaitDecision(scene, two, { approvedAt: () => secondApprovedAt });
    if (two.gate !== 'released')
      throw new DemoError(
        `the second deployment was ${two.gate ?? 'not decided'}, expected released`,
      );
    two = await finishDeployment(scene, two, 'failure');
    await observer.close();

    narrator.chapter('Summary');
    const outcomes = [one, two];
    narrator.table(SUMMARY_HEADER, summaryRows(stack, outcomes, narrator));
    narrator.blank();
    const metrics = await fetch(`${stack.receiver.url}/metrics`);
    if (!metrics.ok) throw new DemoError(`GET /metrics answered ${metrics.status}`);
    const figures = releaseFigures(await metrics.text());
    narrator.detail(paint.bold(`release figures from ${stack.receiver.url}/metrics`));
    for (const line of figureLines(figures, narrator)) narrator.detail(line);
    narrator.blank();
    return { stack, narrator, outcomes, figures };
  } catch (err) {
    await stack.close();
    throw err;
  }
}
