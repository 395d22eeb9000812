/**
 * The ServiceNow sandbox as its own process, for the fault suite: like `changegate sandbox
 * servicenow`, plus the business-rule jitter (`outboundJitterMs`) that the CLI does not expose,
 * so change messages leave the instance out of order. Options come as JSON in
 * `FAULTS_SANDBOX_OPTIONS`; it prints `ServiceNow sandbox listening on <url>` once up.
 *
 * @module
 */
import {
  startServiceNowSandbox,
  type ServiceNowSandboxOptions,
} from '../../../src/sandbox/servicenow/index.js';

const options = JSON.parse(process.env.FAULTS_SANDBOX_OPTIONS ?? '{}') as ServiceNowSandboxOptions;
const sandbox = await startServiceNowSandbox(options);
process.stdout.write(`ServiceNow sandbox listening on ${sandbox.url}\n`);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await sandbox.close();
