import { signGithub } from '../../src/providers/github/receiver/sign.js';
import type { CiEmulator } from '../../src/sandbox/ci/index.js';
import { githubFixture } from '../../test/fixtures/github-request.js';
import { BENCH_SECRET } from './github-deliveries.js';

/**
 * Pending GitHub deployment protection rules, posted to a receiver as GitHub posts them
 * (signed, one delivery id each), each waiting at the CI emulator under its run id.
 *
 * @module
 */

export async function postPendingGates(o: {
  receiverUrl: string;
  ci: Pick<CiEmulator, 'github'>;
  runs: readonly number[];
  /** Delivery ids are `<deliveryPrefix>-<run id>`. */
  deliveryPrefix: string;
}): Promise<void> {
  const template = githubFixture('synthetic-deployment_protection_rule.requested');
  const post = async (runId: number) => {
    const payload = structuredClone(template);
    payload.deployment_callback_url = o.ci.github.pending(
      'Codertocat',
      'Hello-World',
      runId,
      'production',
    );
    payload.environment = 'production';
    const body = JSON.stringify(payload);
    const res = await fetch(`${o.receiverUrl}/hooks/github`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'deployment_protection_rule',
        'x-github-delivery': `${o.deliveryPrefix}-${runId}`,
        'x-hub-signature-256': signGithub(BENCH_SECRET, new TextEncoder().encode(body)),
      },
    });
    if (res.status !== 202)
      throw new Error(`[bench] gate delivery answered ${res.status}: ${await res.text()}`);
  };
  // 16 at a time: the pending gates are concurrent, the registration pace is not measured.
  for (let i = 0; i < o.runs.length; i += 16) await Promise.all(o.runs.slice(i, i + 16).map(post));
}
