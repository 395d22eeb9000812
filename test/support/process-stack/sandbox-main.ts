/**
 * The ServiceNow sandbox as its own process, for a process stack that needs more than
 * `changegate sandbox servicenow` exposes (the fault suite's business-rule jitter, so change
 * messages leave the instance out of order; read ACLs; dictionary). Options come as JSON in
 * `CHANGEGATE_SANDBOX_OPTIONS`; it prints `ServiceNow sandbox listening on <url>` once up, as
 * the CLI does.
 *
 * @module
 */
import {
  startServiceNowSandbox,
  type ServiceNowSandboxOptions,
} from '../../../src/sandbox/servicenow/index.js';

const options = JSON.parse(
  process.env.CHANGEGATE_SANDBOX_OPTIONS ?? '{}',
) as ServiceNowSandboxOptions;
const sandbox = await startServiceNowSandbox(options);
process.stdout.write(`ServiceNow sandbox listening on ${sandbox.url}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await sandbox.close();
