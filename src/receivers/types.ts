import type { NormalizedEvent } from '../events/build.js';
import type { SourcesConfig } from '../config/schema.js';

/** A delivery as it reached the route: nothing parsed, nothing trusted. */
export interface RawRequest {
  headers: Headers;
  /** The exact bytes received; signatures are computed over these. */
  body: Uint8Array;
  /** Route parameters, e.g. `{ source }` for `/hooks/generic/:source`. */
  params: Record<string, string>;
}

export interface VerifyOptions {
  now: Date;
  /** Replay window for providers that sign a timestamp. */
  toleranceSeconds: number;
}

export interface Verified {
  /** The provider's delivery id (same on redelivery): the dedupe key. */
  deliveryId: string;
}

export interface NormalizeContext {
  now: Date;
  /** Provider payloads above this many bytes are not copied into `data.raw`. */
  rawMaxBytes: number;
  /** Encrypt callback credentials (compact JWE) before they enter an event. */
  seal: (secret: Record<string, string>) => Promise<string>;
}

export interface VerifiedRequest extends RawRequest {
  deliveryId: string;
  /** The body parsed as JSON (after verification). */
  json: unknown;
}

export type Normalized =
  /** A ping / connectivity test: answered 200, published nowhere. */
  | { kind: 'ping' }
  | {
      kind: 'events';
      events: NormalizedEvent[];
      /** Body the route answers with (e.g. Azure check). */ reply?: unknown;
    };

/**
 * One provider: how to find its secrets, how to verify a delivery, how to normalize it. Verify
 * and normalize are pure functions of (request, secrets, clock), so they test without HTTP.
 */
export interface Receiver<S = unknown> {
  /** Route segment under `/hooks/`. */
  readonly name: string;
  /** This source's secrets, or undefined when it is not configured (the route answers 404). */
  secrets(sources: SourcesConfig, params: Record<string, string>): S | undefined;
  /** @throws VerificationError (401) when the delivery is not authentic or is stale. */
  verify(request: RawRequest, secrets: S, options: VerifyOptions): Verified;
  /** @throws PayloadError (400) when the JSON is not the provider's shape. */
  normalize(request: VerifiedRequest, ctx: NormalizeContext): Promise<Normalized>;
}
