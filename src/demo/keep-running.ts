import { githubDelivery, protectionRuleRequested } from './github.js';
import type { Narrator } from './narrator.js';
import type { DemoStack } from './stack.js';

/** Single-quote a string for POSIX shells. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * For `--keep-running`: register one more waiting GitHub run and print a curl command that
 * sends its protection-rule delivery, signed with openssl, so a reader can push their own
 * delivery through and watch a new CR appear in the sandbox.
 */
export function printTryItYourself(stack: DemoStack, narrator: Narrator): void {
  const { paint } = narrator;
  const runId = 9_000_000_001;
  const callbackUrl = stack.ci.github.pending('acme', 'payments', runId, 'production');
  const payload = protectionRuleRequested({
    owner: 'acme',
    repo: 'payments',
    runId,
    deploymentId: 2_000_000_001,
    environment: 'production',
    sha: '0123456789abcdef0123456789abcdef01234567',
    title: 'My own deployment',
    callbackUrl,
  });
  // Built only for its exact body: what curl sends must be what openssl signs.
  const { body } = githubDelivery('deployment_protection_rule', payload, stack.secrets.github);
  const lines = [
    `BODY=${shellQuote(body)}`,
    `SIG="sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac ${shellQuote(stack.secrets.github)} | sed 's/^.* //')"`,
    `curl -i ${stack.receiver.url}/hooks/github \\`,
    `  -H 'content-type: application/json' -H 'x-github-event: deployment_protection_rule' \\`,
    `  -H "x-github-delivery: $(date +%s%N)" -H "x-hub-signature-256: $SIG" --data "$BODY"`,
  ];
  narrator.chapter('Still running (--keep-running): send your own signed delivery');
  narrator.detail(`GitHub run ${runId} is waiting at production; its protection rule delivery:`);
  narrator.blank();
  for (const l of lines) narrator.detail(paint.cyan(l));
  narrator.blank();
  narrator.detail('then approve the CR it creates (find its number in the sandbox):');
  narrator.detail(
    paint.cyan(`curl -s ${stack.servicenow.url}/sandbox/admin/records/change_request`),
  );
  narrator.detail(
    paint.cyan(`npm run changegate -- sandbox approve CHG… --url ${stack.servicenow.url}`),
  );
  narrator.detail(
    `and watch ${paint.cyan(`${stack.receiver.url}/metrics`)} — Ctrl-C stops everything.`,
  );
}
