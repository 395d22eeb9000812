import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackRefusedError, createCallbackClients } from '../../src/ci/index.js';
import { CiSchema } from '../../src/config/ci.js';
import type { Callback } from '../../src/events/common.js';
import { createSealer } from '../../src/security/seal.js';
import { randomBytes } from 'node:crypto';
import { eventually } from '../support/stack.js';
import { startLoggedStack, type LoggedStack } from './support/logged-stack.js';
import { signedRequest } from '../fixtures/standard-webhook-request.js';
import { SECRETS } from '../support/stack.js';

/**
 * Callback URLs come from webhooks, so they are input: one outside `ci.allowList` is refused
 * before any request is made (no SSRF), whoever asks — a direct decide() or a released gate.
 */

/** A server standing in for an internal service an attacker would like changegate to call. */
let target: Server;
let targetUrl: string;
const hits: string[] = [];
beforeAll(async () => {
  target = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => target.close(() => resolve())));

describe('callback URLs outside the allow-list', () => {
  it('are refused without a request, in every form an attacker might try', async () => {
    const config = CiSchema.parse({
      allowList: ['ci.acme.example', 'https://gitlab.acme.example/api/v4/projects/'],
      allowLoopback: false,
      generic: { secret: `whsec_${randomBytes(32).toString('base64')}` },
      gitlab: { 'gitlab.acme.example': { token: 'glpat-allow-list-test' } },
    });
    const calls: string[] = [];
    const clients = createCallbackClients(config, {
      sealer: createSealer(randomBytes(32)),
      fetchImpl: async (input) => {
        calls.push(String(input instanceof Request ? input.url : input));
        return new Response('{}', { status: 200 });
      },
    });
    const attempts: Callback[] = [
      { kind: 'generic', url: `${targetUrl}/internal/admin` },
      { kind: 'generic', url: 'https://evil.example/steal' },
      { kind: 'generic', url: 'https://ci.acme.example@evil.example/x' },
      { kind: 'generic', url: 'http://ci.acme.example/plain-http' },
      { kind: 'generic', url: 'https://ci.acme.example.evil.example/x' },
      { kind: 'generic', url: 'file:///etc/passwd' },
      {
        kind: 'gitlab',
        url: 'https://gitlab.acme.example/api/v4/projectsX/1/deployments/2/approval',
      },
      { kind: 'generic', url: 'http://169.254.169.254/latest/meta-data/' },
    ] as Callback[];
    const refused: string[] = [];
    for (const callback of attempts) {
      await expect(
        clients.decide(callback, { outcome: 'approve', comment: 'x' }).catch((err: unknown) => {
          if (err instanceof CallbackRefusedError) refused.push(err.reason);
          throw err;
        }),
      ).rejects.toBeInstanceOf(CallbackRefusedError);
    }
    console.log(
      `allow-list: ${attempts.length} callback URLs outside the list, ${refused.length} refused, ${calls.length} HTTP calls made`,
    );
    expect(refused).toHaveLength(attempts.length);
    expect(calls).toEqual([]);
    expect(hits).toEqual([]);
  });

  describe('through a gate released in the running product', () => {
    let stack: LoggedStack;
    beforeAll(async () => {
      stack = await startLoggedStack({
        ci: {
          allowLoopback: false,
          allowList: ['ci.acme.example'],
          generic: { secret: SECRETS.whsec },
        },
      });
    });
    afterAll(async () => stack?.close());

    it('refuses the callback of the released gate and never calls the URL', async () => {
      const body = {
        type: 'deployment.requested',
        timestamp: new Date().toISOString(),
        data: {
          project: 'acme/ssrf',
          environment: 'production',
          deploymentId: 'ssrf-1',
          run: { id: 'ssrf-1-run' },
          callback: { kind: 'generic', url: `${targetUrl}/internal/admin` },
        },
      };
      const request = signedRequest(body, {
        secret: SECRETS.whsec,
        id: 'msg_ssrf',
        at: new Date(),
      });
      const res = await fetch(`${stack.receiver.url}/hooks/generic/argo`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      expect(res.status).toBe(202);
      const cr = await eventually(() =>
        stack.servicenow.admin
          .records('change_request')
          .find(
            (r) =>
              r.correlation_id === 'generic/argo/acme/ssrf/ssrf-1' && r.approval === 'requested',
          ),
      );
      stack.servicenow.admin.approve(cr.number!);
      const decided = await eventually(() =>
        stack.workers.gate
          ?.states()
          .flatMap((s) => Object.values(s.gates))
          .find(
            (g) =>
              g.gate.correlationId === 'generic/argo/acme/ssrf/ssrf-1' &&
              g.status !== 'waiting' &&
              g.status !== 'deciding',
          ),
      );
      expect(decided.status).toBe('released');
      const refusal = stack.logs().find((l) => l.includes('CI callback refused'));
      expect(refusal).toMatch(/callback refused: https required/);
      expect(hits).toEqual([]);
    });
  });
});
