import type { Context } from 'hono';
import { PayloadTooLargeError } from '../errors.js';

/**
 * Read a request body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before a byte is read (Node's HTTP parser holds the body to that length); a chunked
 * body is counted while it streams and abandoned at the limit.
 * @throws PayloadTooLargeError (413).
 */
export async function readBody(c: Context, limit: number): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined) {
    if (!/^\d+$/.test(declared) || Number(declared) > limit) throw new PayloadTooLargeError(limit);
    return new Uint8Array(await c.req.arrayBuffer());
  }
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array();
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
