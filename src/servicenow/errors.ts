/**
 * Typed ServiceNow failures whose messages name the instance, the endpoint and the likely fix,
 * so an operator reading one log line knows which role, credential or plugin to look at.
 *
 * @module
 */
import { UpstreamError } from '../errors.js';

export type ServiceNowErrorKind =
  'auth' | 'forbidden' | 'not_found' | 'rate_limited' | 'unavailable' | 'invalid' | 'conflict';

export type AuthMode = 'oauth:client_credentials' | 'oauth:password' | 'basic';

export interface ServiceNowErrorInit {
  kind: ServiceNowErrorKind;
  /** Connection name and host, e.g. `main (acme.service-now.com)`. */
  instance: string;
  /** `GET /api/now/table/change_request`. */
  endpoint: string;
  table?: string | undefined;
  status?: number | undefined;
  /** `error.message` / `error.detail` from the ServiceNow body, when there was one. */
  snMessage?: string | undefined;
  snDetail?: string | undefined;
  /** What went wrong, in our words, when there is no ServiceNow body (timeouts, DNS...). */
  reason?: string | undefined;
  fix: string;
  retryAfterMs?: number | undefined;
  /** The request may have been applied by ServiceNow even though no answer arrived. */
  maybeCommitted?: boolean | undefined;
  cause?: unknown;
}

const RETRYABLE: ReadonlySet<ServiceNowErrorKind> = new Set(['rate_limited', 'unavailable']);

/** A ServiceNow call failed; `kind` says why, `retryable` whether trying again can help. */
export class ServiceNowError extends UpstreamError {
  readonly kind: ServiceNowErrorKind;
  readonly instance: string;
  readonly table: string | undefined;
  readonly endpoint: string;
  readonly fix: string;
  readonly snMessage: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly maybeCommitted: boolean;

  constructor(init: ServiceNowErrorInit) {
    const what =
      init.status !== undefined ? `HTTP ${init.status}` : (init.reason ?? 'request failed');
    const said = init.snMessage
      ? ` "${init.snMessage}${init.snDetail ? `: ${init.snDetail}` : ''}"`
      : init.status !== undefined && init.reason
        ? ` (${init.reason})`
        : '';
    super(
      `[changegate/servicenow] ${init.instance} ${init.endpoint}: ${init.kind} (${what})${said}. Fix: ${init.fix}`,
      { retryable: RETRYABLE.has(init.kind), upstreamStatus: init.status, cause: init.cause },
    );
    this.kind = init.kind;
    this.instance = init.instance;
    this.table = init.table;
    this.endpoint = init.endpoint;
    this.fix = init.fix;
    this.snMessage = init.snMessage;
    this.retryAfterMs = init.retryAfterMs;
    this.maybeCommitted = init.maybeCommitted ?? false;
  }
}

/** Map an HTTP status to a kind; `undefined` for a success. */
export function kindForStatus(status: number): ServiceNowErrorKind | undefined {
  if (status < 400) return undefined;
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'unavailable';
  return 'invalid';
}

const PLUGIN_MISSING = /requested uri does not represent any resource/i;

export interface FixContext {
  kind: ServiceNowErrorKind;
  path: string;
  table?: string | undefined;
  auth: AuthMode;
  snMessage?: string | undefined;
  snDetail?: string | undefined;
}

/** A business rule or the state model refused the write: the user had the rights. */
const RULE_ABORT =
  /invalid state transition|aborted by business rule|mandatory fields are not filled/i;

/** The most likely fix for a failure, from what the endpoint and table tell us. */
export function fixFor({ kind, path, table, auth, snMessage, snDetail }: FixContext): string {
  const chgRest = path.includes('/api/sn_chg_rest/');
  if (kind === 'forbidden' && RULE_ABORT.test(`${snMessage ?? ''} ${snDetail ?? ''}`)) {
    return 'a business rule or the change state model refused this write (not a missing role): move the CR only to a state GET /api/sn_chg_rest/change/{sys_id}/nextstates offers, with the fields that state needs';
  }
  if (
    chgRest &&
    (PLUGIN_MISSING.test(snMessage ?? '') || kind === 'not_found') &&
    !/\/change\/[0-9a-f]{32}/.test(path)
  ) {
    return 'activate the Change Management REST API plugin (com.snc.change_management.rest_api) and check the instance URL';
  }
  switch (kind) {
    case 'auth':
      return authFix(auth, path.endsWith('/oauth_token.do'));
    case 'forbidden':
      return `the integration user likely lacks ${roleFor(path, table)}; grant it (or check the ACLs on ${table ?? 'the resource'})`;
    case 'not_found':
      return table
        ? `no such record in ${table}, or the user cannot see it (read ACL / domain separation); check the sys_id`
        : 'check the instance URL and the API path (is the plugin providing it active?)';
    case 'rate_limited':
      return 'the instance rate-limits this user (System Web Services > REST > Rate Limit Rules, sys_rate_limit_rules); lower rateLimit.requestsPerSecond or raise the rule';
    case 'unavailable':
      return 'the instance is down, overloaded, hibernating or unreachable; it is retried with backoff, check status if it persists';
    case 'conflict':
      return 'the record changed concurrently or already exists; re-read it and retry the update';
    case 'invalid':
      return chgRest
        ? 'ServiceNow rejected the request: check field names/values, the change state transition (GET .../nextstates) and the template id'
        : 'ServiceNow rejected the request: check field names, values and the encoded query';
  }
}

function authFix(auth: AuthMode, tokenEndpoint: boolean): string {
  if (auth === 'basic') {
    return 'check the username/password; the user must be active, not locked out, and allowed web service access';
  }
  const base =
    'check clientId/clientSecret against System OAuth > Application Registry (the entry must be active)';
  if (auth === 'oauth:client_credentials') {
    return `${base}; client_credentials also needs the system property glide.oauth.inbound.client.credential.grant_type.enabled=true and an OAuth Application User on the registry entry${tokenEndpoint ? '' : ' (the token was rejected: is that user active?)'}`;
  }
  return `${base}, and the username/password of the integration user (password grant)`;
}

function roleFor(path: string, table: string | undefined): string {
  if (path.includes('/api/sn_chg_rest/')) {
    return 'the itil or change_manager role that the Change Management REST API (sn_chg_rest) requires';
  }
  if (path.includes('/api/now/attachment')) {
    return 'write access to the parent record and the attachment ACLs (sys_attachment create/read)';
  }
  if (path.includes('/api/now/identifyreconcile'))
    return 'the itil or asset role (required by identifyreconcile)';
  switch (table) {
    case 'change_request':
    case 'change_task':
      return 'the itil role (or change_manager for approvals) needed to read/write change_request';
    case 'sys_user':
      return 'read access to sys_user (itil, or a role granted by the sys_user read ACL)';
    case 'incident':
      return 'the itil role needed for incident';
    case 'sysapproval_approver':
      return 'the approver_user or change_manager role for sysapproval_approver';
    default:
      return table?.startsWith('cmdb')
        ? 'the itil or asset role for CMDB tables'
        : `a role that the ${table ?? 'endpoint'} ACLs accept`;
  }
}
