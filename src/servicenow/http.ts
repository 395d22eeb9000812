/**
 * One HTTP exchange with an instance: fetch with a per-request timeout that also covers reading
 * the body, network failures classified by phase, and the ServiceNow JSON envelopes.
 *
 * @module
 */

export type FetchImpl = typeof fetch;

/** Where a request failed before an HTTP answer arrived. */
export type NetworkPhase = 'dns' | 'tcp' | 'tls' | 'timeout' | 'reset' | 'unknown';

/**
 * No HTTP answer. `sent` is false only when the failure proves the request never reached the
 * server (DNS, refused connection, TLS handshake), which is what makes a non-idempotent retry safe.
 */
export class NetworkError extends Error {
  readonly phase: NetworkPhase;
  readonly sent: boolean;
  readonly code: string | undefined;
  constructor(phase: NetworkPhase, sent: boolean, message: string, code?: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'NetworkError';
    this.phase = phase;
    this.sent = sent;
    this.code = code;
  }
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body when it is JSON, else undefined. */
  json: unknown;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NODATA', 'EAI_NONAME']);
const TCP_NOT_SENT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EADDRNOTAVAIL',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const o = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof o.code === 'string') return o.code;
    if (Array.isArray(o.errors) && o.errors.length > 0) {
      const inner = causeCode(o.errors[0]);
      if (inner) return inner;
    }
    e = o.cause;
  }
  return undefined;
}

/** Classify a fetch rejection (undici wraps the socket error in `cause`). */
export function classifyNetworkError(err: unknown, url: string): NetworkError {
  const code = causeCode(err);
  const host = safeHost(url);
  // undici refuses the Fetch standard's "bad ports" (1, 7, 9, 25...) without connecting.
  const causeMessage = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  if (causeMessage === 'bad port') {
    return new NetworkError(
      'tcp',
      false,
      `TCP connect to ${host} refused by fetch: the port is on the Fetch standard's blocked "bad port" list`,
      'BAD_PORT',
      err,
    );
  }
  if (code && DNS.has(code)) {
    return new NetworkError('dns', false, `DNS lookup of ${host} failed (${code})`, code, err);
  }
  if (code && TCP_NOT_SENT.has(code)) {
    return new NetworkError('tcp', false, `TCP connect to ${host} failed (${code})`, code, err);
  }
  if (
    code &&
    (code.startsWith('ERR_TLS') ||
      code.includes('CERT') ||
      code === 'EPROTO' ||
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  ) {
    return new NetworkError('tls', false, `TLS handshake with ${host} failed (${code})`, code, err);
  }
  if (code && RESET.has(code)) {
    return new NetworkError('reset', true, `connection to ${host} was reset (${code})`, code, err);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new NetworkError(
    'unknown',
    true,
    `request to ${host} failed: ${msg}${code ? ` (${code})` : ''}`,
    code,
    err,
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Send one request. Resolves with any HTTP status; rejects only with `NetworkError` (or the
 * caller's own abort reason).
 * @throws NetworkError when no HTTP answer arrived in `timeoutMs`.
 */
export async function sendHttp(fetchImpl: FetchImpl, req: HttpRequest): Promise<HttpResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onCallerAbort = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onCallerAbort, { once: true });
  let headersReceived = false;
  try {
    const res = await fetchImpl(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      redirect: 'manual',
    });
    headersReceived = true;
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: parseJson(text, res.headers) };
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason ?? err;
    if (timedOut) {
      throw new NetworkError(
        'timeout',
        true,
        `no ${headersReceived ? 'complete body' : 'answer'} from ${safeHost(req.url)} within ${req.timeoutMs} ms`,
        'ETIMEDOUT',
        err,
      );
    }
    if (err instanceof NetworkError) throw err;
    throw classifyNetworkError(err, req.url);
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function parseJson(text: string, headers: Headers): unknown {
  if (text === '') return undefined;
  const type = headers.get('content-type') ?? '';
  if (!type.includes('json') && !/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{"error":{"message","detail"},"status":"failure"}`, or OAuth's `{error, error_description}`. */
export function parseErrorBody(json: unknown): { message?: string; detail?: string } {
  if (!json || typeof json !== 'object') return {};
  const o = json as Record<string, unknown>;
  const e = o.error;
  if (e && typeof e === 'object') {
    const { message, detail } = e as Record<string, unknown>;
    return {
      ...(typeof message === 'string' && message ? { message } : {}),
      ...(typeof detail === 'string' && detail ? { detail } : {}),
    };
  }
  if (typeof e === 'string') {
    const description = o.error_description;
    return {
      message: e,
      ...(typeof description === 'string' && description ? { detail: description } : {}),
    };
  }
  return {};
}

/** The `result` of a `{"result": ...}` envelope (the body itself when it has none). */
export function unwrapResult(json: unknown): unknown {
  if (json && typeof json === 'object' && !Array.isArray(json) && 'result' in json) {
    return (json as { result: unknown }).result;
  }
  return json;
}
