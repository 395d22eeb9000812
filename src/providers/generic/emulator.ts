import type { Hono } from 'hono';
import { coerceError } from '../../errors.js';
import { verifyStandardWebhook } from '../../security/standard-webhooks.js';
import { fault, open, reply } from '../../sandbox/ci/http.js';
import type { Recorder } from '../../sandbox/ci/recorder.js';

/**
 * Emulated generic receiver: verifies the Standard-Webhooks signature, accepts the first
 * decision per gate and answers 409 to any later one.
 */

export interface GenericEmulator {
  /** Register a waiting gate; returns its callback URL. */
  pending(name: string): string;
  state(name: string): 'waiting' | 'released' | 'rejected' | undefined;
}

/** Mount the emulated generic Standard-Webhooks receiver route on `app`; returns the handle that registers pending gates. */
export function mountGeneric(
  app: Hono,
  rec: Recorder,
  opts: { secret: string; baseUrl: () => string },
): GenericEmulator {
  const gates = new Map<string, 'waiting' | 'released' | 'rejected'>();

  app.post('/generic/:name', async (c) => {
    const x = await open(c, 'generic', rec);
    const injected = fault(x);
    if (injected) return injected;
    try {
      verifyStandardWebhook(c.req.raw.headers, Buffer.from(x.raw), [opts.secret], {
        now: new Date(),
        toleranceSeconds: 300,
      });
    } catch (err) {
      return reply(x, 401, 'refused', { error: coerceError(err).message });
    }
    const name = c.req.param('name');
    const current = gates.get(name);
    if (!current) return reply(x, 404, 'refused', { error: 'no such gate' });
    if (current !== 'waiting') return reply(x, 409, 'duplicate', { error: `already ${current}` });
    const type = (x.body as { type?: string } | undefined)?.type;
    if (type !== 'gate.released' && type !== 'gate.rejected') {
      return reply(x, 400, 'refused', { error: 'unknown type' });
    }
    const state = type === 'gate.released' ? 'released' : 'rejected';
    gates.set(name, state);
    return reply(x, 200, state, { ok: true });
  });

  return {
    pending(name) {
      gates.set(name, 'waiting');
      return `${opts.baseUrl()}/generic/${encodeURIComponent(name)}`;
    },
    state: (name) => gates.get(name),
  };
}
