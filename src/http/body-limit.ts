import type { MiddlewareHandler } from 'hono';
import { PayloadTooLargeError } from '../errors.js';

/**
 * A body limit for every route, applied before anything reads the body. A declared
 * Content-Length over the limit is answered 413 before a byte is read; a chunked body is
 * counted as it streams and the stream fails at the limit, so whatever reads it (a form parser,
 * `arrayBuffer()`) stops there with a {@link PayloadTooLargeError} (413) instead of buffering
 * what an unauthenticated sender chooses to send.
 *
 * @example app.use('*', bodyLimit(1024 * 1024))
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared !== undefined && (!/^\d+$/.test(declared) || Number(declared) > maxBytes)) {
      throw new PayloadTooLargeError(maxBytes);
    }
    const body = c.req.raw.body;
    if (body && declared === undefined) {
      let size = 0;
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.byteLength;
            if (size > maxBytes) controller.error(new PayloadTooLargeError(maxBytes));
            else controller.enqueue(chunk);
          },
        }),
      );
      c.req.raw = new Request(c.req.raw, { body: counted, duplex: 'half' } as RequestInit);
    }
    await next();
  };
}
