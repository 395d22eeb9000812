/**
 * `/sandbox/admin/*`: the admin facade over HTTP, for the CLI and out-of-process tests.
 * It needs no ServiceNow auth: it listens only where the sandbox listens (127.0.0.1 by
 * default), which is fine for a test tool and must never face a network.
 *
 * @module
 */
import { Hono } from 'hono';
import type { SandboxAdmin } from '../admin.js';
import type { FaultSpec, OutboundTarget } from '../types.js';
import { snError } from '../util.js';
import { jsonObject, type Ctx, type SandboxEnv } from './http.js';

/** Build the admin router (mount at `/sandbox/admin`). */
export function adminRoutes(admin: SandboxAdmin): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  const attempt = (c: Ctx, fn: () => unknown): Response => {
    try {
      return c.json({ result: fn() });
    } catch (err) {
      return c.json(
        snError('Sandbox action failed', err instanceof Error ? err.message : String(err)),
        409,
      );
    }
  };
  const body = async (c: Ctx): Promise<Record<string, unknown>> => (await jsonObject(c)) ?? {};
  const str = (v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : String(v);

  app.get('/faults', (c) => c.json({ result: admin.faults.list() }));
  app.post('/faults', async (c) => {
    const spec = (await body(c)) as unknown as FaultSpec;
    return attempt(c, () => ({ id: admin.faults.inject(spec) }));
  });
  app.delete('/faults', (c) => attempt(c, () => admin.faults.clear()));
  app.delete('/faults/:id', (c) => attempt(c, () => admin.faults.clear(c.req.param('id'))));

  app.post('/changes/:ref/approve', async (c) => {
    const b = await body(c);
    return attempt(c, () =>
      admin.approve(c.req.param('ref'), str(b.comment), {
        ...(str(b.approver) ? { approver: str(b.approver) } : {}),
        ...(b.stages === 'current' ? { stages: 'current' as const } : {}),
      }),
    );
  });
  app.post('/changes/:ref/reject', async (c) => {
    const b = await body(c);
    return attempt(c, () =>
      admin.reject(
        c.req.param('ref'),
        str(b.comment),
        str(b.approver) ? { approver: str(b.approver) } : {},
      ),
    );
  });
  app.post('/changes/:ref/state', async (c) => {
    const b = await body(c);
    return attempt(c, () => admin.setState(c.req.param('ref'), str(b.state) ?? ''));
  });
  app.get('/changes/:ref/approvals', (c) => attempt(c, () => admin.approvals(c.req.param('ref'))));
  app.post('/changes/:ref/cancel', (c) => attempt(c, () => admin.cancel(c.req.param('ref'))));
  app.post('/records/:ref/field', async (c) => {
    const b = await body(c);
    return attempt(c, () =>
      admin.setField(c.req.param('ref'), str(b.field) ?? '', str(b.value) ?? ''),
    );
  });

  app.get('/outbound', (c) => c.json({ result: admin.outbound.sent() }));
  app.put('/outbound', async (c) => {
    const b = await body(c);
    const targets = (Array.isArray(b.targets) ? b.targets : []) as OutboundTarget[];
    return attempt(c, () => admin.outbound.set(targets));
  });
  app.get('/records/:table', (c) => c.json({ result: admin.records(c.req.param('table')) }));
  app.get('/requests', (c) => c.json({ result: admin.requests() }));
  app.post('/reset', (c) => attempt(c, () => admin.reset()));
  return app;
}
