import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { normalizeCheck } from './check.js';
import { normalizeServiceHook } from './service-hooks.js';
import { isCheckRequest } from './verify.js';

/**
 * Azure DevOps has two request shapes on one route, told apart by the check headers:
 * - an Invoke REST API check / InvokeRESTAPI task in callback mode → `check.ts`;
 * - a service hook notification → `service-hooks.ts`.
 *
 * @module
 */

/**
 * Normalize an Azure DevOps delivery (check or service hook, told apart by the check headers).
 * The check's `AuthToken` leaves only sealed (`callback.sealed`), never in `raw` or `params`.
 * @throws PayloadError with a machine-readable reason when a required header or field is missing.
 */
export async function normalize(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  return isCheckRequest(request.headers)
    ? normalizeCheck(request, ctx)
    : normalizeServiceHook(request, ctx);
}
