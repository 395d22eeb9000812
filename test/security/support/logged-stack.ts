import type { ConfigInput } from '../../../src/config/schema.js';
import { startStack, type Stack } from '../../support/stack.js';

/**
 * The one-process stack of test/support/stack.ts with every log line captured (level trace) and
 * every credential changegate sends or is handed over HTTP recorded (Authorization and token
 * headers, OAuth and App installation tokens in responses), so a test can grep the logs for all
 * of them.
 */
export interface LoggedStack extends Stack {
  /** Every log line written so far (JSON, one per entry). */
  logs(): string[];
  /** Credentials seen on the wire so far (request headers and token responses). */
  wireSecrets(): Set<string>;
}

const CREDENTIAL_HEADERS = ['authorization', 'private-token', 'x-gitlab-token', 'authtoken'];

export async function startLoggedStack(extra: Partial<ConfigInput> = {}): Promise<LoggedStack> {
  const lines: string[] = [];
  const seen = new Set<string>();
  const recordingFetch: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    for (const name of CREDENTIAL_HEADERS) {
      const value = headers.get(name);
      if (!value) continue;
      seen.add(value);
      const [, credential] = value.split(' ');
      if (credential) seen.add(credential);
    }
    const response = await fetch(input, init);
    if (response.headers.get('content-type')?.includes('json')) {
      const body = (await response
        .clone()
        .json()
        .catch(() => undefined)) as Record<string, unknown> | undefined;
      for (const field of ['access_token', 'refresh_token', 'token']) {
        if (typeof body?.[field] === 'string') seen.add(body[field]);
      }
    }
    return response;
  };
  const stack = await startStack({
    config: { log: { level: 'trace' }, ...extra },
    oauthSecret: 'sandbox-oauth-secret-4711',
    logTo: { write: (chunk: string) => void lines.push(chunk) },
    fetchImpl: recordingFetch,
  });
  return {
    ...stack,
    logs: () => lines.join('').split('\n').filter(Boolean),
    wireSecrets: () => seen,
  };
}
