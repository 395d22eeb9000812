import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallbackClients, type CallbackClients } from '../../../src/ci/index.js';
import { CiSchema } from '../../../src/config/ci.js';
import { UpstreamError } from '../../../src/errors.js';
import type { Callback } from '../../../src/events/common.js';
import { createSealer } from '../../../src/security/seal.js';
import {
  startCiEmulator,
  type CiEmulator,
  type CiEmulatorOptions,
} from '../../../src/sandbox/ci/index.js';

/**
 * The Jenkins callback client against the emulated `input` step, served under a context path
 * (`/jenkins`) as most installations behind a reverse proxy are.
 */

const sealer = createSealer(randomBytes(32));
const approve = { outcome: 'approve', comment: 'CHG0030001 approved' } as const;
const reject = { outcome: 'reject', comment: 'CHG0030002 rejected by CAB' } as const;

let ci: CiEmulator;
let clients: CallbackClients;

async function emulatorWithClients(options: CiEmulatorOptions = {}) {
  const emulator = await startCiEmulator({ jenkinsContextPath: '/jenkins', ...options });
  const host = new URL(emulator.url).host;
  const made = createCallbackClients(
    CiSchema.parse({
      allowLoopback: true,
      timeoutMs: 5_000,
      jenkins: {
        [host]: {
          user: emulator.credentials.jenkinsUser,
          apiToken: emulator.credentials.jenkinsToken,
        },
      },
    }),
    { sealer },
  );
  return { emulator, clients: made };
}

beforeAll(async () => {
  ({ emulator: ci, clients } = await emulatorWithClients());
});

afterAll(async () => {
  await ci?.close();
});

const gate = (build: number, options?: Parameters<CiEmulator['jenkins']['pending']>[3]) => ({
  kind: 'jenkins' as const,
  url: ci.jenkins.pending('payments/main', build, 'ChangeGate', options),
  params: { inputId: 'ChangeGate' },
});

const settled = (build: number) =>
  ci.received().filter((c) => c.path.includes(`/${build}/input/`) && c.effect === 'released');

const failureOf = (callback: Callback, decision: typeof approve | typeof reject = approve) =>
  clients.decide(callback, decision).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as UpstreamError,
  );

describe('Jenkins input step', () => {
  it('proceeds under the context path with Basic user:apiToken: 200 is done', async () => {
    const callback = gate(41);
    expect(callback.url).toMatch(/\/jenkins\/job\/payments\/job\/main\/41\/$/);
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'done',
      httpStatus: 200,
    });
    const [release, ...more] = settled(41);
    expect(more).toHaveLength(0);
    expect(release?.path).toBe('/jenkins/job/payments/job/main/41/input/ChangeGate/proceedEmpty');
    const basic = `${ci.credentials.jenkinsUser}:${ci.credentials.jenkinsToken}`;
    expect(release?.headers.authorization).toBe(`Basic ${Buffer.from(basic).toString('base64')}`);
    expect(ci.jenkins.state('payments/main', 41)).toBe('proceeded');
  });

  it('aborts the input on reject', async () => {
    await expect(clients.decide(gate(43), reject)).resolves.toMatchObject({ status: 'done' });
    expect(ci.jenkins.state('payments/main', 43)).toBe('aborted');
  });

  it('counts the 400 "already given" of a settling input as already decided', async () => {
    const callback = gate(44);
    ci.jenkins.settle('payments/main', 44, 'proceeded', { keepUntilRemoved: true });
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'already-decided',
      httpStatus: 400,
    });
  });

  it('counts a repeated proceed as decided only because the run names our user as approver', async () => {
    const callback = gate(42);
    await clients.decide(callback, approve);
    // The answer was lost (crash): the repeat meets a 404, the run's ApproverAction says it was us.
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'already-decided',
      httpStatus: 404,
    });
    expect(settled(42)).toHaveLength(1);
  });

  it('never counts another 404 as decided: an input a person settled is an error naming why', async () => {
    const callback = gate(51);
    ci.jenkins.settle('payments/main', 51, 'proceeded', { by: 'alice' });
    const err = await failureOf(callback);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ retryable: false, upstreamStatus: 404 });
    expect(err.message).toMatch(/input 'ChangeGate' is not pending on .*\/51\/ \(building: /);
    expect(err.message).toMatch(/nothing was released by this call/);
    // A repeated abort has no such evidence: an error too.
    const aborted = gate(52);
    await clients.decide(aborted, reject);
    await expect(failureOf(aborted, reject)).resolves.toMatchObject({ upstreamStatus: 404 });
    expect(settled(51)).toHaveLength(0);
  });

  it('names a wrong input id', async () => {
    const callback = { ...gate(45), params: { inputId: 'deployGate' } };
    const err = await failureOf(callback);
    expect(err.message).toMatch(/input 'DeployGate' is not pending/);
    expect(ci.jenkins.state('payments/main', 45)).toBe('waiting');
  });

  it('names a build the user may not read (Jenkins hides it with a 404)', async () => {
    const err = await failureOf(gate(46, { readable: false }));
    expect(err).toMatchObject({ retryable: false, upstreamStatus: 404 });
    expect(err.message).toMatch(/not found for ci.jenkins user changegate: .*lacks Job\/Read/);
    expect(ci.jenkins.state('payments/main', 46)).toBe('waiting');
  });

  it("refuses with Jenkins' own words when the user is not a submitter", async () => {
    const err = await failureOf(gate(47, { submitter: 'release-managers' }));
    expect(err).toMatchObject({ retryable: false, upstreamStatus: 400 });
    expect(err.message).toContain('"You need to be release-managers to submit this."');
    const abort = await failureOf(gate(48, { submitter: 'alice' }), reject);
    expect(abort.message).toContain('(or have Job/Cancel permissions) to cancel this.');
    expect(ci.jenkins.state('payments/main', 47)).toBe('waiting');
    expect(ci.jenkins.state('payments/main', 48)).toBe('waiting');
  });

  it('fetches a crumb under the context path and retries when Jenkins demands one', async () => {
    const strict = await emulatorWithClients({ jenkinsRequireCrumb: true });
    try {
      const callback: Callback = {
        kind: 'jenkins',
        url: strict.emulator.jenkins.pending('app', 7),
        params: {},
      };
      await expect(strict.clients.decide(callback, approve)).resolves.toMatchObject({
        status: 'done',
      });
      expect(strict.emulator.received().map((c) => [c.effect, c.path])).toEqual([
        ['refused', '/jenkins/job/app/7/input/ChangeGate/proceedEmpty'],
        ['crumb', '/jenkins/crumbIssuer/api/json'],
        ['released', '/jenkins/job/app/7/input/ChangeGate/proceedEmpty'],
      ]);
    } finally {
      await strict.emulator.close();
    }
  });

  it('only the browser form redirects (302 to the console), and the client never uses it', async () => {
    const callback = gate(49);
    const res = await fetch(`${callback.url}input/ChangeGate/submit`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        authorization: `Basic ${Buffer.from(`${ci.credentials.jenkinsUser}:${ci.credentials.jenkinsToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'proceed=Proceed',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(
      /\/jenkins\/job\/payments\/job\/main\/49\/console$/,
    );
  });
});

describe('Jenkins behind a redirecting proxy or SSO', () => {
  it('treats a 302 to a login page as an error with the reason, never as a release', async () => {
    const callback = gate(50);
    const sso = 'https://sso.acme.example/login?return=%2Fjenkins%2Fjob%2Fpayments';
    // What a proxy in front of Jenkins answers when its session cookie is missing.
    const proxied = createCallbackClients(
      CiSchema.parse({
        allowLoopback: true,
        jenkins: {
          [new URL(ci.url).host]: {
            user: ci.credentials.jenkinsUser,
            apiToken: ci.credentials.jenkinsToken,
          },
        },
      }),
      {
        sealer,
        fetchImpl: async () => new Response(null, { status: 302, headers: { location: sso } }),
      },
    );
    const err = await proxied.decide(callback, approve).catch((e: unknown) => e as UpstreamError);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ retryable: false, upstreamStatus: 302 });
    expect((err as Error).message).toContain(`redirected to ${sso}`);
    expect((err as Error).message).toMatch(/not a release.*the input is still waiting/);
    expect(ci.jenkins.state('payments/main', 50)).toBe('waiting');
  });
});
