/**
 * `changegate doctor`: a "test connection" for every configured ServiceNow connection —
 * reachability (DNS/TCP/TLS), credentials, the roles and plugin the bridge needs, the instance
 * features it relies on (doctor-features.ts), and the outbound-message secret — printed as a
 * table, with a fix next to every failure.
 *
 * @module
 */
import pino from 'pino';
import type { Config } from '../config/schema.js';
import type { ServiceNowConnection } from '../config/servicenow.js';
import { coerceError } from '../errors.js';
import { createServiceNowClient } from './client.js';
import { checkFeatures } from './doctor-features.js';
import { ServiceNowError } from './errors.js';
import { NetworkError, sendHttp, type FetchImpl, type NetworkPhase } from './http.js';

export type CheckResult = 'PASS' | 'FAIL' | 'WARN';

export interface DoctorRow {
  check: string;
  result: CheckResult;
  detail: string;
  fix?: string | undefined;
}

export interface DoctorOptions {
  config: Pick<Config, 'servicenow' | 'sources'> & Partial<Pick<Config, 'incidents'>>;
  out?: { write(chunk: string): unknown };
  fetchImpl?: FetchImpl | undefined;
  /** Per-request ceiling, so an unreachable instance does not hold the command for minutes. */
  timeoutMs?: number | undefined;
}

const NETWORK_FIX: Record<NetworkPhase, string> = {
  dns: 'the host name does not resolve: check the url (https://<instance>.service-now.com), DNS and proxy settings',
  tcp: 'nothing accepted the TCP connection: check the url and port, firewalls/egress rules and proxies, and whether the instance is awake (developer instances hibernate)',
  tls: 'the TLS handshake failed: check that the url is https on the right port and that the certificate chain is trusted (NODE_EXTRA_CA_CERTS for a corporate CA)',
  timeout:
    'the instance did not answer in time: check proxies/firewalls that drop traffic, and the instance status',
  reset:
    'the connection was reset: check proxies and TLS interception between changegate and the instance',
  unknown: 'check the url, network path and proxy settings',
};

/**
 * Check every connection and print the results.
 * @returns the exit code: 0 when nothing failed, 1 otherwise.
 * @example process.exitCode = await runDoctor({ config });
 */
export async function runDoctor({
  config,
  out = process.stdout,
  fetchImpl = fetch,
  timeoutMs = 10_000,
}: DoctorOptions): Promise<number> {
  const rows: DoctorRow[] = [];
  const connections = Object.entries(config.servicenow.connections);
  if (connections.length === 0) {
    rows.push({
      check: 'servicenow: connections',
      result: 'FAIL',
      detail: 'no ServiceNow connection is configured',
      fix: 'set CHANGEGATE_SERVICENOW_URL and credentials, or servicenow.connections in the config file',
    });
  }
  for (const [name, connection] of connections) {
    const countField = config.incidents?.policies.find((p) => p.countField)?.countField;
    rows.push(...(await checkConnection(name, connection, fetchImpl, timeoutMs, countField)));
  }
  const secrets = config.sources.servicenow?.secrets ?? [];
  rows.push(
    secrets.length > 0
      ? {
          check: 'servicenow: outbound-message secret',
          result: 'PASS',
          detail: `${secrets.length} secret(s) configured for /hooks/servicenow`,
        }
      : {
          check: 'servicenow: outbound-message secret',
          result: 'WARN',
          detail: 'not configured: signed notifications from ServiceNow business rules are refused',
          fix: 'set CHANGEGATE_SERVICENOW_SECRET (or sources.servicenow.secrets) to the whsec_ value stored in the instance property the business rule signs with',
        },
  );
  out.write(renderTable(rows));
  return rows.some((r) => r.result === 'FAIL') ? 1 : 0;
}

async function checkConnection(
  name: string,
  connection: ServiceNowConnection,
  fetchImpl: FetchImpl,
  timeoutMs: number,
  countField: string | undefined,
): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const label = `${name}:`;
  const host = new URL(connection.url).host;

  // 1. Reachability, without credentials: any HTTP answer proves DNS, TCP and TLS work.
  const started = performance.now();
  try {
    const res = await sendHttp(fetchImpl, {
      method: 'GET',
      url: `${connection.url}/api/now/table/sys_properties?sysparm_limit=1`,
      headers: { Accept: 'application/json' },
      timeoutMs,
    });
    rows.push({
      check: `${label} reachability`,
      result: 'PASS',
      detail: `${host} answered HTTP ${res.status} in ${Math.round(performance.now() - started)} ms`,
    });
  } catch (err) {
    const e = err instanceof NetworkError ? err : undefined;
    rows.push({
      check: `${label} reachability`,
      result: 'FAIL',
      detail: `${e ? `${e.phase.toUpperCase()}: ` : ''}${coerceError(err).message}`,
      fix: NETWORK_FIX[e?.phase ?? 'unknown'],
    });
    rows.push({
      check: `${label} authentication, roles`,
      result: 'WARN',
      detail: 'skipped: instance unreachable',
    });
    return rows;
  }

  const client = createServiceNowClient(
    { ...connection, maxRetries: 0, timeoutMs: Math.min(connection.timeoutMs, timeoutMs) },
    { log: pino({ level: 'silent' }), name, fetchImpl },
  );

  // 2. Credentials.
  const authRow = await check(`${label} authentication (${client.auth.mode})`, async () => {
    if (connection.auth.type === 'oauth') {
      await client.auth.authorize();
      return `token obtained from /oauth_token.do (${connection.auth.grant} grant)`;
    }
    try {
      await client.table.query('sys_user', { limit: 1, fields: ['sys_id'] });
    } catch (err) {
      // 403 still proves the credentials were accepted; roles are checked next.
      if (err instanceof ServiceNowError && err.kind === 'forbidden')
        return 'basic credentials accepted';
      throw err;
    }
    return 'basic credentials accepted';
  });
  rows.push(authRow);
  if (authRow.result === 'FAIL') {
    rows.push({
      check: `${label} roles`,
      result: 'WARN',
      detail: 'skipped: authentication failed',
    });
    return rows;
  }

  // 3. What the bridge needs to read and call.
  rows.push(
    await check(`${label} read change_request`, async () => {
      await client.table.query('change_request', { limit: 1, fields: ['sys_id'] });
      return 'GET /api/now/table/change_request?sysparm_limit=1 allowed';
    }),
    await check(`${label} read sys_user`, async () => {
      await client.table.query('sys_user', { limit: 1, fields: ['sys_id'] });
      return 'GET /api/now/table/sys_user?sysparm_limit=1 allowed';
    }),
    await check(`${label} change API (sn_chg_rest)`, async () => {
      await client.request({
        method: 'GET',
        path: '/api/sn_chg_rest/change',
        route: '/api/sn_chg_rest/change',
        table: 'change_request',
        query: { sysparm_limit: 1 },
      });
      return 'GET /api/sn_chg_rest/change allowed (plugin com.snc.change_management.rest_api active)';
    }),
  );
  // 4. The instance features changegate relies on (approvals, journal ACL, rules, fields, roles).
  try {
    rows.push(...(await checkFeatures(label, client, connection, countField)));
  } catch (err) {
    rows.push({
      check: `${label} features`,
      result: 'FAIL',
      detail: coerceError(err).message,
    });
  }
  return rows;
}

async function check(name: string, run: () => Promise<string>): Promise<DoctorRow> {
  try {
    return { check: name, result: 'PASS', detail: await run() };
  } catch (err) {
    if (err instanceof ServiceNowError) {
      const status = err.upstreamStatus !== undefined ? `HTTP ${err.upstreamStatus} ` : '';
      const said = err.snMessage ? `"${err.snMessage}"` : err.kind;
      return { check: name, result: 'FAIL', detail: `${status}${said}`.trim(), fix: err.fix };
    }
    return { check: name, result: 'FAIL', detail: coerceError(err).message };
  }
}

/** Plain-text table; the fix goes on its own line under the failing row. */
export function renderTable(rows: DoctorRow[]): string {
  const w = Math.max(5, ...rows.map((r) => r.check.length));
  const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));
  const lines = [
    `${pad('CHECK', w)}  RESULT  DETAIL`,
    `${'-'.repeat(w)}  ------  ${'-'.repeat(40)}`,
  ];
  for (const r of rows) {
    lines.push(`${pad(r.check, w)}  ${pad(r.result, 6)}  ${r.detail}`);
    if (r.fix && r.result !== 'PASS') lines.push(`${' '.repeat(w + 10)}fix: ${r.fix}`);
  }
  const failed = rows.filter((r) => r.result === 'FAIL').length;
  const warned = rows.filter((r) => r.result === 'WARN').length;
  lines.push(
    '',
    failed === 0 ? `OK (${warned} warning(s))` : `${failed} check(s) failed, ${warned} warning(s)`,
    '',
  );
  return lines.join('\n');
}
