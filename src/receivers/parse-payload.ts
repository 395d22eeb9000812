import type { z } from 'zod';
import { PayloadError } from '../errors.js';

/**
 * Validate a provider payload against a small zod schema of just the fields a normalizer reads,
 * turning the first issue into a {@link PayloadError} with a machine-readable reason:
 * `missing_field:<path>` when the value is absent or null, `invalid_field:<path>` otherwise.
 *
 * @module
 */

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/**
 * @param prefix the module's error prefix, e.g. `[changegate/receivers/github]`.
 * @throws PayloadError when `json` does not match `schema`.
 */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  json: unknown,
  prefix: string,
): z.output<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  const where = path.map(String).join('.') || '(root)';
  const value = valueAt(json, path);
  const kind = value === undefined || value === null ? 'missing_field' : 'invalid_field';
  throw new PayloadError(`${kind}:${where}`, `${prefix} ${kind.replace('_', ' ')} ${where}`, {
    cause: parsed.error,
  });
}

/** The first header among `names` with a non-empty value, trimmed. */
export function firstHeader(headers: Headers, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers.get(name)?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * The event name a provider puts in a header, and the JSON object every delivery must be.
 * @throws PayloadError `missing_header:<name>` or `not_an_object`.
 */
export function eventAndObject(
  request: { headers: Headers; json: unknown },
  header: string,
  prefix: string,
): { event: string; json: object } {
  const event = request.headers.get(header)?.trim();
  if (!event) throw new PayloadError(`missing_header:${header}`, `${prefix} no event name`);
  const { json } = request;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new PayloadError('not_an_object', `${prefix} payload is not a JSON object`);
  }
  return { event, json };
}
