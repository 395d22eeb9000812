import { PayloadError } from '../../../errors.js';
import { normalizeChangegateBody } from '../../../receivers/changegate-body.js';
import type { NormalizeContext, Normalized, VerifiedRequest } from '../../../receivers/types.js';

/**
 * Jenkins sends the changegate format (`changegate-format.ts`). What differs from a generic
 * source is the callback: the gate is an `input` step, released with
 * `POST {BUILD_URL}input/{id}/proceedEmpty` or `.../abort` using the API token from our config
 * (never from the event).
 *
 * @module
 */

const PREFIX = '[changegate/receivers/jenkins]';
const DEFAULT_INPUT_ID = 'ChangeGate';

/**
 * The `input` step's URL id. pipeline-input-step's `InputStep.setId` upper-cases a leading a–z
 * ("a-z as the first char is reserved for InputAction"), so `id: 'changeGate'` is served at
 * `/input/ChangeGate/`; do the same so the worker builds the URL Jenkins answers.
 */
export function jenkinsInputId(id: string | undefined): string {
  const value = id ?? DEFAULT_INPUT_ID;
  return value.charAt(0).toUpperCase() + value.slice(1);
}

/**
 * @throws PayloadError when the body is not the changegate format or the callback is not Jenkins'.
 */
export async function normalize(
  request: VerifiedRequest,
  ctx: NormalizeContext,
): Promise<Normalized> {
  return normalizeChangegateBody(request, ctx, {
    provider: 'jenkins',
    prefix: PREFIX,
    callback: (cb) => {
      if (cb.kind !== undefined && cb.kind !== 'jenkins') {
        throw new PayloadError(
          'invalid_field:data.callback.kind',
          `${PREFIX} callback.kind must be jenkins`,
        );
      }
      return { kind: 'jenkins', url: cb.url, params: { inputId: jenkinsInputId(cb.inputId) } };
    },
  });
}
