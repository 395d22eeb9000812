import { PayloadError } from '../../../errors.js';
import { normalizeChangegateBody } from '../../../receivers/changegate-body.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';
import { isSourceSlug } from './verify.js';

const PREFIX = '[changegate/receivers/generic]';

/**
 * Normalize a `/hooks/generic/:source` delivery. The callback is a signed Standard-Webhooks POST
 * to `callback.url` (the worker signs it with this source's secret).
 * @throws PayloadError when the body is not the changegate format or `:source` is not a slug.
 */
export async function normalize(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  const source = request.params.source;
  // The route only gets here with configured secrets, so this is a wiring bug, not a sender's.
  if (!source || !isSourceSlug(source)) {
    throw new PayloadError('invalid_source', `${PREFIX} :source is missing or not a slug`);
  }
  return normalizeChangegateBody(request, ctx, {
    provider: 'generic',
    source,
    prefix: PREFIX,
    callback: (cb) => {
      if (cb.kind !== undefined && cb.kind !== 'generic') {
        throw new PayloadError(
          'invalid_field:data.callback.kind',
          `${PREFIX} callback.kind must be generic`,
        );
      }
      return { kind: 'generic', url: cb.url, params: { source } };
    },
  });
}
