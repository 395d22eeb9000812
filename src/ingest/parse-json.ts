import { PayloadError } from '../errors.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
const POISON = /"(?:__proto__|constructor|prototype)"\s*:/;

/**
 * Decode UTF-8 strictly and parse JSON. Keys that could reach an object's prototype when a
 * consumer merges the payload (`__proto__`, `constructor`, `prototype`) are dropped; the
 * reviver costs time, so it only runs when such a key appears in the text at all.
 * @throws PayloadError `invalid_encoding` or `invalid_json`.
 */
export function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new PayloadError('invalid_encoding', 'body is not valid UTF-8');
  }
  if (text.length === 0) throw new PayloadError('invalid_json', 'body is empty; expected JSON');
  try {
    return POISON.test(text)
      ? JSON.parse(text, (key, value: unknown) =>
          key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value,
        )
      : JSON.parse(text);
  } catch (err) {
    throw new PayloadError('invalid_json', `body is not JSON: ${(err as Error).message}`);
  }
}
