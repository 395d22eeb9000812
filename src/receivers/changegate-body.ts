import type { Callback } from '../events/common.js';
import { captureRaw, type NormalizedEvent } from '../events/build.js';
import { PayloadError } from '../errors.js';
import { findChangeNumber } from './change-reference.js';
import type { z } from 'zod';
import { ChangegateWebhookSchema, type ChangegateCallbackSchema } from './changegate-format.js';
import { parsePayload } from './parse-payload.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from './types.js';

/**
 * Map a changegate-format body (see `changegate-format.ts`) to events. Shared by `generic` sources
 * and Jenkins, which sends the same format with a Jenkins-shaped callback
 * (`src/providers/{generic,jenkins}/receiver/normalize.ts`).
 *
 * @module
 */

type CallbackIn = z.output<typeof ChangegateCallbackSchema>;

/** Who sent a changegate-format body: decides provider, key prefix and callback shape. */
export interface ChangegateOrigin {
  provider: 'jenkins' | 'generic';
  /** `generic` only: the `:source` path segment. */
  source?: string;
  /** Module prefix for error messages. */
  prefix: string;
  /** Turn the body's callback into the event's callback (or refuse it with a PayloadError). */
  callback(callback: CallbackIn): Callback;
}

/**
 * @throws PayloadError when the body is not the changegate format.
 * @example normalizeChangegateBody(request, ctx, { provider: 'generic', source: 'argo', … })
 */
export function normalizeChangegateBody(
  request: VerifiedRequest,
  ctx: NormalizeContext,
  origin: ChangegateOrigin,
): Normalized {
  const body = parsePayload(ChangegateWebhookSchema, request.json, origin.prefix);
  if (body.type === 'ping') return { kind: 'ping' };

  const { data } = body;
  // Generic sources share one topic: the source name keeps two sources' projects apart in
  // keys and in the CR correlation_id (`generic/<source>/<project>/<deploymentId>`).
  const scope = [origin.provider, origin.source, data.project].filter(Boolean).join('/');
  const origin_ = {
    provider: origin.provider,
    ...(origin.source ? { source: origin.source } : {}),
    project: data.project,
    event: body.type,
    deliveryId: request.deliveryId,
    raw: captureRaw(request.json, request.body.byteLength, ctx.rawMaxBytes),
  };
  const commit = data.commit ?? {};
  const changeNumber =
    data.changeNumber ?? findChangeNumber(commit.message, data.description, ...(data.labels ?? []));
  const shared = {
    ...(data.actor ? { actor: data.actor } : {}),
    ...(changeNumber ? { changeNumber } : {}),
  };

  let event: NormalizedEvent;
  switch (body.type) {
    case 'deployment.requested':
    case 'deployment.started':
    case 'deployment.succeeded':
    case 'deployment.failed': {
      const d = body.data;
      const key = `${scope}/${d.deploymentId}`;
      event = {
        type: `dev.changegate.${body.type}`,
        key,
        subject: key,
        data: {
          ...origin_,
          ...shared,
          environment: d.environment,
          deploymentId: d.deploymentId,
          correlationId: key,
          ...(d.run ? { run: d.run } : {}),
          commit,
          labels: d.labels ?? [],
          emergency: d.emergency ?? false,
          ...(d.description ? { description: d.description } : {}),
          ...(d.callback ? { callback: origin.callback(d.callback) } : {}),
        },
      };
      break;
    }
    case 'pipeline.succeeded':
    case 'pipeline.failed': {
      const d = body.data;
      const key = `${scope}/${d.deploymentId ?? d.run.id}`;
      const status =
        body.type === 'pipeline.succeeded' ? 'succeeded' : d.canceled ? 'canceled' : 'failed';
      event = {
        type: `dev.changegate.${body.type}`,
        key,
        subject: key,
        data: {
          ...origin_,
          ...(data.actor ? { actor: data.actor } : {}),
          run: d.run,
          pipeline: d.pipeline ?? d.run.name ?? d.run.id,
          ...(d.environment ? { environment: d.environment } : {}),
          commit,
          status,
          failures: d.failures ?? [],
        },
      };
      break;
    }
    case 'test.reported': {
      const d = body.data;
      const unit = d.deploymentId ?? d.run?.id;
      if (!unit) {
        throw new PayloadError(
          'missing_field:data.deploymentId',
          `${origin.prefix} test.reported needs data.deploymentId or data.run.id`,
        );
      }
      const key = `${scope}/${unit}`;
      event = {
        type: 'dev.changegate.test.reported',
        key,
        subject: key,
        data: {
          ...origin_,
          ...(changeNumber ? { changeNumber } : {}),
          ...(d.run ? { run: d.run } : {}),
          ...(d.environment ? { environment: d.environment } : {}),
          ...(d.deploymentId ? { deploymentId: d.deploymentId, correlationId: key } : {}),
          ...(d.summary ? { summary: d.summary } : {}),
          reports: d.reports,
        },
      };
      break;
    }
  }
  return { kind: 'events', events: [event] };
}
