import { UpstreamError } from '../../errors.js';
import type { ServiceNowClient, SnRecord } from '../../servicenow/index.js';

/**
 * The CR a test report belongs to: named by number, else found by `correlation_id`. The change
 * worker may still be creating it (both consume the same deployment's events in parallel), so
 * a miss is looked up again with doubling delays before giving up.
 *
 * @module
 */

const PREFIX = '[changegate/workers/evidence]';

/** No CR after every lookup: dead-lettered with this message (not retryable by the runtime). */
export class ChangeNotFoundError extends UpstreamError {
  constructor(what: string, lookups: number) {
    super(`${PREFIX} no change request ${what} after ${lookups} lookups`, { retryable: false });
  }
}

export interface FindChangeOptions {
  changeNumber?: string | undefined;
  correlationId?: string | undefined;
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

const FIELDS = ['sys_id', 'number', 'state', 'type', 'correlation_id'];
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * @throws ChangeNotFoundError when neither identifier is given, or no CR appears in time.
 * @throws ServiceNowError (retryable or not) when a lookup itself fails.
 */
export async function findChange(
  client: ServiceNowClient,
  {
    changeNumber,
    correlationId,
    attempts,
    baseDelayMs,
    maxDelayMs,
    sleep = defaultSleep,
  }: FindChangeOptions,
): Promise<SnRecord & { sys_id: string; number: string }> {
  if (!changeNumber && !correlationId) {
    throw new ChangeNotFoundError(
      'to attach to: the event names no changeNumber or correlationId',
      0,
    );
  }
  const what = changeNumber ? `numbered ${changeNumber}` : `with correlation_id ${correlationId}`;
  for (let attempt = 1; ; attempt++) {
    const cr = changeNumber
      ? (
          await client.table.query('change_request', {
            query: `number=${changeNumber}`,
            limit: 1,
            fields: FIELDS,
          })
        )[0]
      : await client.table.findByCorrelationId('change_request', correlationId!, {
          fields: FIELDS,
        });
    if (cr?.sys_id && cr.number) return cr as SnRecord & { sys_id: string; number: string };
    if (attempt >= attempts) throw new ChangeNotFoundError(what, attempt);
    await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
  }
}
