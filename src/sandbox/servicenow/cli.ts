/**
 * `changegate sandbox servicenow|approve|reject|state`: run the sandbox as a process and drive it
 * through its admin API.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_USER } from './auth.js';
import { startServiceNowSandbox, type ServiceNowSandboxOptions } from './server.js';

/** Port the `sandbox servicenow` command listens on unless told otherwise, and what admin commands call. */
export const DEFAULT_CLI_PORT = 8089;
const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_CLI_PORT}`;

function sandboxCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'sandbox') ??
    program
      .command('sandbox')
      .description('Local emulators for ServiceNow and CI systems (tests, demo)')
  );
}

async function callAdmin(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url.replace(/\/$/, '')}/sandbox/admin${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    process.exitCode = 1;
    process.stderr.write(`sandbox admin ${path} failed (${res.status}): ${text}\n`);
    return;
  }
  const record = (JSON.parse(text) as { result?: Record<string, string> }).result ?? {};
  process.stdout.write(
    `${record.number ?? ''} state=${record.state ?? ''} approval=${record.approval ?? ''}\n`,
  );
}

/**
 * Register `sandbox servicenow`, `sandbox approve`, `sandbox reject` and `sandbox state`.
 * @example registerSandboxCommands(program) // then: changegate sandbox servicenow --port 8089
 */
export function registerSandboxCommands(program: Command): void {
  const sandbox = sandboxCommand(program);

  sandbox
    .command('servicenow')
    .description('Run a ServiceNow instance emulator until SIGINT/SIGTERM')
    .option('--port <n>', 'port to listen on', String(DEFAULT_CLI_PORT))
    .option(
      '--host <host>',
      'interface to bind (the admin API has no auth: keep it local)',
      '127.0.0.1',
    )
    .option('--client-id <id>', 'OAuth client id accepted by /oauth_token.do')
    .option('--client-secret <secret>', 'OAuth client secret')
    .option('--outbound <url>', 'business-rule target (changegate /hooks/servicenow)')
    .option('--outbound-secret <whsec>', 'Standard Webhooks secret for the outbound target')
    .option('--no-seed', 'start without demo users, groups and CIs')
    .option('--tls-key <file>', 'serve HTTPS with this PEM private key (with --tls-cert)')
    .option('--tls-cert <file>', 'PEM certificate for --tls-key')
    .option(
      '--invalid-query-returns-no-rows',
      'set glide.invalid_query.returns_no_rows: a query term on an unknown field returns no rows',
    )
    .action(
      async (o: {
        port: string;
        host: string;
        clientId?: string;
        clientSecret?: string;
        outbound?: string;
        outboundSecret?: string;
        seed: boolean;
        tlsKey?: string;
        tlsCert?: string;
        invalidQueryReturnsNoRows?: boolean;
      }) => {
        if (o.outbound && !o.outboundSecret)
          throw new Error('--outbound needs --outbound-secret whsec_…');
        if (!o.tlsKey !== !o.tlsCert) throw new Error('--tls-key and --tls-cert go together');
        const options: ServiceNowSandboxOptions = {
          port: Number(o.port),
          host: o.host,
          seed: o.seed,
          ...(o.tlsKey && o.tlsCert
            ? {
                tls: { key: readFileSync(o.tlsKey, 'utf8'), cert: readFileSync(o.tlsCert, 'utf8') },
              }
            : {}),
          ...(o.invalidQueryReturnsNoRows ? { invalidQueryReturnsNoRows: true } : {}),
          ...(o.clientId && o.clientSecret
            ? { oauth: { clientId: o.clientId, clientSecret: o.clientSecret } }
            : {}),
          ...(o.outbound && o.outboundSecret
            ? { outbound: [{ url: o.outbound, secret: o.outboundSecret }] }
            : {}),
        };
        const sn = await startServiceNowSandbox(options);
        const lines = [
          `ServiceNow sandbox listening on ${sn.url} (test tool: the /sandbox/admin API has no auth)`,
          `  basic auth: ${DEFAULT_USER.username} / ${DEFAULT_USER.password}`,
          o.clientId
            ? `  oauth: POST ${sn.url}/oauth_token.do client_id=${o.clientId} (client_credentials, password, refresh_token)`
            : '  oauth: disabled (pass --client-id and --client-secret)',
          o.outbound ? `  business rules -> ${o.outbound}` : '  business rules: no outbound target',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await sn.close();
      },
    );

  sandbox
    .command('approve <change>')
    .description(
      'Approve a change (number or sys_id) as its approvers: each pending sysapproval_approver record by its own approver',
    )
    .option('--url <url>', 'sandbox URL', DEFAULT_URL)
    .option('--comment <text>', 'approver comment')
    .option('--as <user>', "approve only this approver's record (default: every pending approver)")
    .option('--stage-only', 'approve the current stage only (technical, or CAB), not the next')
    .action(
      (change: string, o: { url: string; comment?: string; as?: string; stageOnly?: boolean }) =>
        callAdmin(o.url, `/changes/${encodeURIComponent(change)}/approve`, {
          comment: o.comment,
          approver: o.as,
          ...(o.stageOnly ? { stages: 'current' } : {}),
        }),
    );

  sandbox
    .command('reject <change>')
    .description('Reject the pending approval of a change; it goes back to New')
    .option('--url <url>', 'sandbox URL', DEFAULT_URL)
    .option('--comment <text>', 'rejection reason')
    .option('--as <user>', 'reject as this approver (default: the first pending one)')
    .action((change: string, o: { url: string; comment?: string; as?: string }) =>
      callAdmin(o.url, `/changes/${encodeURIComponent(change)}/reject`, {
        comment: o.comment,
        approver: o.as,
      }),
    );

  sandbox
    .command('state <change> <state>')
    .description(
      'Move a change to a state value (-5 New … -1 Implement, 0 Review, 3 Closed, 4 Canceled)',
    )
    .option('--url <url>', 'sandbox URL', DEFAULT_URL)
    .action((change: string, state: string, o: { url: string }) =>
      callAdmin(o.url, `/changes/${encodeURIComponent(change)}/state`, { state }),
    );
}
