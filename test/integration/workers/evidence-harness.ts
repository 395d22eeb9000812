import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { sign } from '../../../src/security/standard-webhooks.js';
import { startWorkers, type WorkersRuntime } from '../../../src/runtime/workers.js';
import type { ConsumedRecord } from '../../../src/bus/port.js';
import { SECRETS, type Stack } from '../../support/stack.js';

/** Shared by the evidence integration tests: Jenkins posts, an artifact server, audit reads. */

export const JUNIT = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="payments" tests="4">
    <testcase classname="PaymentTest" name="pays"/>
    <testcase classname="PaymentTest" name="refunds"><failure message="expected 200 but was 500">trace</failure></testcase>
    <testcase classname="PaymentTest" name="voids"><skipped/></testcase>
    <testcase classname="LedgerTest" name="books"/>
  </testsuite>
</testsuites>
`;

export const SARIF = JSON.stringify({
  version: '2.1.0',
  runs: [
    {
      tool: { driver: { name: 'semgrep' } },
      results: [
        { ruleId: 'xss', level: 'error', message: { text: 'unescaped output' } },
        { ruleId: 'style', level: 'note', message: { text: 'nit' } },
      ],
    },
  ],
});

export interface ArtifactServer {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** Serves `/artifacts/<name>` from `files`; `/moved/*` redirects; everything it is asked is in `hits`. */
export async function startArtifactServer(files: Record<string, string>): Promise<ArtifactServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const name = (req.url ?? '').replace(/^\/artifacts\//, '');
    if (req.url?.startsWith('/moved/')) {
      res.writeHead(302, { location: `/artifacts/${req.url.slice('/moved/'.length)}` }).end();
    } else if (files[name] !== undefined) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(files[name]);
    } else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** POST a changegate-format body to /hooks/jenkins, signed like our shared-library step. */
export async function postJenkins(stack: Stack, body: unknown, id = `msg_${randomUUID()}`) {
  const text = JSON.stringify(body);
  const res = await fetch(`${stack.receiver.url}/hooks/jenkins`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...sign(SECRETS.whsec, id, new Date(), text) },
    body: text,
  });
  if (res.status !== 202)
    throw new Error(`jenkins hook answered ${res.status}: ${await res.text()}`);
}

export function deploymentRequested(deploymentId: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'deployment.requested',
    timestamp: new Date().toISOString(),
    data: {
      project: 'acme/payments',
      environment: 'production',
      deploymentId,
      run: {
        id: `run-${deploymentId}`,
        url: `https://ci.acme.example/job/payments/${deploymentId}/`,
      },
      ...extra,
    },
  };
}

/** The audit records on the stack's bus whose action starts with `prefix`. */
export async function audits(stack: Stack, prefix: string) {
  const out: { action: string; key: string; reason?: string; detail?: Record<string, unknown> }[] =
    [];
  await stack.bus.readToEnd(stack.config.kafka.topics.audit, (r: ConsumedRecord) => {
    const entry = JSON.parse(r.value?.toString('utf8') ?? '{}') as (typeof out)[number];
    if (entry.action?.startsWith(prefix)) out.push(entry);
  });
  return out;
}

/** Start extra workers next to the stack's change and gate workers. */
export function startMore(
  stack: Stack,
  names: ('evidence' | 'notify')[],
  fetchImpl?: typeof fetch,
): Promise<WorkersRuntime> {
  return startWorkers({
    config: stack.config,
    bus: stack.bus,
    log: createLogger({ level: stack.config.log.level }),
    metrics: createMetrics({ defaults: false }),
    names,
    ...(fetchImpl ? { fetchImpl } : {}),
  });
}
