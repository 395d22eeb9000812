import type { z } from 'zod';
import type { SourcesConfig } from '../../../config/schema.js';
import type { AzureDevopsSourceSchema } from '../config.js';
import { PayloadError, VerificationError } from '../../../errors.js';
import { matchesAny } from '../../../security/timing-safe.js';
import type { RawRequest, Verified, VerifyOptions } from '../../../receivers/types.js';

/**
 * Azure DevOps authenticity. Neither service hooks nor Invoke REST API checks sign anything: there
 * is no HMAC, no signed timestamp. What exists is Basic auth (the service hook's username/password
 * fields, or the generic service connection the check calls through) and, for service hooks,
 * custom HTTP headers. So: Basic auth against every configured `user:password` pair, plus the
 * optional shared header, both constant-time; replays are stopped only by the delivery-id dedupe,
 * which is why the route must stay HTTPS-only.
 *
 * @module
 */

const PREFIX = '[changegate/receivers/azure-devops]';
const BASIC = /^basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i;
/** Plan, job and task instance ids are GUIDs; anything else is not from Azure Pipelines. */
const ID = /^[A-Za-z0-9-]{1,64}$/;
const MAX_DELIVERY_ID = 200;

/** `sources.azureDevops`: Basic `user:password` pairs and an optional shared header. */
export type AzureDevopsSecrets = NonNullable<z.output<typeof AzureDevopsSourceSchema>>;

/** The configured Azure DevOps secrets, or undefined (the route answers 404). */
export function azureDevopsSecrets(sources: SourcesConfig): AzureDevopsSecrets | undefined {
  return sources.azureDevops;
}

/**
 * An Invoke REST API check (or InvokeRESTAPI task in callback mode) rather than a service hook:
 * Azure Pipelines adds `PlanUrl`, `ProjectId`, `HubName`, `PlanId`, `JobId`, `TimelineId`,
 * `TaskInstanceId` and `AuthToken` headers by default; any of the identifying ones is enough to
 * route the request here, the normalizer then insists on all it needs.
 */
export function isCheckRequest(headers: Headers): boolean {
  return ['planid', 'planurl', 'taskinstanceid', 'authtoken'].some((h) => headers.has(h));
}

function checkBasicAuth(headers: Headers, pairs: readonly string[]): void {
  const authorization = headers.get('authorization');
  if (!authorization) throw new VerificationError(`${PREFIX} basic auth missing`);
  const encoded = BASIC.exec(authorization)?.[1];
  if (!encoded) throw new VerificationError(`${PREFIX} basic auth malformed`);
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  if (!matchesAny(decoded, pairs)) throw new VerificationError(`${PREFIX} basic auth mismatch`);
}

function checkSharedHeader(headers: Headers, header: AzureDevopsSecrets['header']): void {
  if (!header) return;
  const value = headers.get(header.name);
  if (!value || !matchesAny(value, header.values)) {
    throw new VerificationError(`${PREFIX} shared header mismatch`);
  }
}

function checkDeliveryId(headers: Headers): string {
  const planId = headers.get('planid')?.trim();
  const taskInstanceId = headers.get('taskinstanceid')?.trim();
  if (!planId || !ID.test(planId)) {
    throw new PayloadError('missing_header:PlanId', `${PREFIX} PlanId header missing or invalid`);
  }
  if (!taskInstanceId || !ID.test(taskInstanceId)) {
    throw new PayloadError(
      'missing_header:TaskInstanceId',
      `${PREFIX} TaskInstanceId header missing or invalid`,
    );
  }
  return `check:${planId}:${taskInstanceId}`;
}

function serviceHookDeliveryId(body: Uint8Array): string {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    throw new PayloadError('invalid_json', `${PREFIX} body is not JSON`, { cause: err });
  }
  const id = json && typeof json === 'object' ? (json as { id?: unknown }).id : undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_DELIVERY_ID) {
    throw new PayloadError('missing_field:id', `${PREFIX} notification id missing or invalid`);
  }
  return id;
}

/**
 * Authenticate, then find the delivery id: `check:<PlanId>:<TaskInstanceId>` for a check, the
 * notification `id` for a service hook. The body is only read once the caller is authenticated.
 * @throws VerificationError on missing or wrong credentials (`basic auth mismatch`, …).
 * @throws PayloadError when an authenticated request carries no usable delivery id.
 */
export function verify(
  request: RawRequest,
  secrets: AzureDevopsSecrets,
  _options: VerifyOptions,
): Verified {
  checkBasicAuth(request.headers, secrets.basic);
  checkSharedHeader(request.headers, secrets.header);
  return {
    deliveryId: isCheckRequest(request.headers)
      ? checkDeliveryId(request.headers)
      : serviceHookDeliveryId(request.body),
  };
}
