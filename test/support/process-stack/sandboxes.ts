import type { CiEmulatorAnnouncement } from '../../../src/sandbox/ci/cli.js';
import type { ServiceNowSandboxOptions } from '../../../src/sandbox/servicenow/index.js';
import { freePort } from './free-port.js';
import { spawnProcess, type TestProcess } from './process.js';
import { STACK_SECRETS } from './secrets.js';

/**
 * The two emulators of a process stack, each a process of its own: the ServiceNow sandbox,
 * whose business rule posts to the receiver, and the CI emulator (`sandbox ci`).
 *
 * @module
 */

/**
 * Sandbox options `changegate sandbox servicenow` has no flag for (business-rule jitter, read
 * ACLs, dictionary): given, the sandbox runs as sandbox-main.ts, which takes them all.
 */
export type SandboxScriptOptions = Omit<
  ServiceNowSandboxOptions,
  'port' | 'oauth' | 'outbound' | 'clock'
>;

export interface SandboxesOptions {
  logDir: string;
  /** The receiver the business rule posts to (`<url>/hooks/servicenow`). */
  receiverUrl: string;
  oauth: { clientId: string; clientSecret: string };
  script?: SandboxScriptOptions;
  timeoutMs: number;
  /** Every process started is pushed here, so the caller stops it whatever happens next. */
  processes: TestProcess[];
}

export interface Sandboxes {
  servicenowUrl: string;
  /** The `sandbox ci` announcement: URL and credentials. */
  ci: CiEmulatorAnnouncement;
}

async function spawnServiceNow(o: SandboxesOptions): Promise<TestProcess> {
  const port = await freePort();
  const outbound = `${o.receiverUrl}/hooks/servicenow`;
  if (o.script) {
    return spawnProcess({
      name: 'servicenow',
      script: 'test/support/process-stack/sandbox-main.ts',
      logDir: o.logDir,
      env: {
        CHANGEGATE_SANDBOX_OPTIONS: JSON.stringify({
          ...o.script,
          port,
          oauth: o.oauth,
          outbound: [{ url: outbound, secret: STACK_SECRETS.whsec }],
        } satisfies ServiceNowSandboxOptions),
      },
    });
  }
  return spawnProcess({
    name: 'servicenow',
    logDir: o.logDir,
    args: [
      'sandbox',
      'servicenow',
      '--port',
      String(port),
      '--client-id',
      o.oauth.clientId,
      '--client-secret',
      o.oauth.clientSecret,
      '--outbound',
      outbound,
      '--outbound-secret',
      STACK_SECRETS.whsec,
    ],
  });
}

/**
 * Start both; resolves once each announced where it listens.
 * @throws Error when one does not within `timeoutMs`
 */
export async function startSandboxes(o: SandboxesOptions): Promise<Sandboxes> {
  const servicenow = await spawnServiceNow(o);
  o.processes.push(servicenow);
  const ci = spawnProcess({ name: 'ci', logDir: o.logDir, args: ['sandbox', 'ci', '--port', '0'] });
  o.processes.push(ci);
  const [snLine, ciLine] = await Promise.all([
    servicenow.waitForLine((l) => l.includes('ServiceNow sandbox listening on'), o.timeoutMs),
    ci.waitForLine((l) => l.startsWith('{"url"'), o.timeoutMs),
  ]);
  return {
    servicenowUrl: /listening on (http:\/\/\S+)/.exec(snLine)![1]!,
    ci: JSON.parse(ciLine) as CiEmulatorAnnouncement,
  };
}
