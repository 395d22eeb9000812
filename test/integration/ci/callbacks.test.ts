import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CallbackRefusedError,
  createCallbackClients,
  type CallbackClients,
} from '../../../src/ci/index.js';
import type { CiLog } from '../../../src/ci/port.js';
import { CiSchema } from '../../../src/config/ci.js';
import type { Callback } from '../../../src/events/common.js';
import { verifyStandardWebhook } from '../../../src/security/standard-webhooks.js';
import { createSealer } from '../../../src/security/seal.js';
import {
  generateGithubAppKey,
  startCiEmulator,
  type CiEmulator,
  type ReceivedCall,
} from '../../../src/sandbox/ci/index.js';

let ci: CiEmulator;
let clients: CallbackClients;
const logLines: string[] = [];
const sealer = createSealer(randomBytes(32));

/** Captures everything logged, to prove secrets never reach the log. */
const log: CiLog = {
  debug: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
  info: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
  warn: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })),
};

const approve = {
  outcome: 'approve',
  comment: 'CHG0030001 approved',
  changeNumber: 'CHG0030001',
} as const;
const reject = { outcome: 'reject', comment: 'CHG0030002 rejected by CAB' } as const;

/** Calls that changed a gate behind `pathPart`. */
const effects = (pathPart: string, effect: ReceivedCall['effect'] = 'released') =>
  ci.received().filter((c) => c.path.includes(pathPart) && c.effect === effect);

beforeAll(async () => {
  ci = await startCiEmulator();
  const host = new URL(ci.url).host;
  const config = CiSchema.parse({
    allowLoopback: true,
    timeoutMs: 5_000,
    github: {
      appId: ci.credentials.githubAppId,
      privateKey: ci.credentials.githubAppPrivateKey,
      apiUrl: ci.url,
    },
    gitlab: { [host]: { token: ci.credentials.gitlabToken } },
    jenkins: {
      [host]: { user: ci.credentials.jenkinsUser, apiToken: ci.credentials.jenkinsToken },
    },
    generic: { secret: ci.credentials.genericSecret },
  });
  clients = createCallbackClients(config, { sealer, log });
});

afterAll(async () => {
  await ci?.close();
});

describe('GitHub custom deployment protection rule', () => {
  const gate = (run: number, env = 'production'): Callback => ({
    kind: 'github',
    url: ci.github.pending('acme', 'payments', run, env),
    params: { installationId: '77', environment: env },
  });

  it('approves with an installation token and records exactly one release', async () => {
    const callback = gate(1001);
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'done',
      httpStatus: 204,
    });

    const [release, ...more] = effects('/runs/1001/');
    expect(more).toHaveLength(0);
    expect(release?.body).toEqual({
      environment_name: 'production',
      state: 'approved',
      comment: approve.comment,
    });
    expect(release?.headers).toMatchObject({
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      authorization: expect.stringMatching(/^Bearer ghs_/),
    });
    expect(
      ci
        .received()
        .some((c) => c.path === '/app/installations/77/access_tokens' && c.effect === 'token'),
    ).toBe(true);
  });

  it('answers already-decided to a repeat, and GitHub still saw one release', async () => {
    const callback = gate(1002);
    await clients.decide(callback, approve);
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'already-decided',
      httpStatus: 422,
    });
    expect(effects('/runs/1002/')).toHaveLength(1);
  });

  it('rejects the deployment with state rejected', async () => {
    await clients.decide(gate(1003), reject);
    expect(effects('/runs/1003/', 'rejected')).toHaveLength(1);
    expect(ci.github.state('acme', 'payments', 1003, 'production')).toBe('rejected');
  });

  it('posts a status comment without a state, leaving the gate pending', async () => {
    const callback = gate(1004);
    await expect(clients.comment(callback, 'Waiting for CAB on CHG0030004')).resolves.toBe(true);
    const [comment] = effects('/runs/1004/', 'comment');
    expect(comment?.body).toEqual({
      environment_name: 'production',
      comment: 'Waiting for CAB on CHG0030004',
    });
    expect(ci.github.state('acme', 'payments', 1004, 'production')).toBe('pending');
  });

  it('reuses the cached installation token across decisions', async () => {
    const before = ci.received().filter((c) => c.effect === 'token').length;
    await clients.decide(gate(1005), approve);
    expect(ci.received().filter((c) => c.effect === 'token').length).toBe(before);
  });

  it('names the missing Deployments permission when GitHub answers 403', async () => {
    ci.failNext('github', 403);
    await expect(clients.decide(gate(1006), approve)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('Deployments: Read and write'),
    });
  });

  it('is refused by GitHub when the App JWT is signed with another key', async () => {
    const other = await generateGithubAppKey();
    const impostor = createCallbackClients(
      CiSchema.parse({
        allowLoopback: true,
        github: {
          appId: ci.credentials.githubAppId,
          privateKey: other.privateKeyPem,
          apiUrl: ci.url,
        },
      }),
      { sealer },
    );
    await expect(impostor.decide(gate(1007), approve)).rejects.toMatchObject({
      retryable: false,
      upstreamStatus: 401,
    });
    expect(effects('/runs/1007/')).toHaveLength(0);
  });

  it('refuses a callback off the GitHub API origin so the token never leaves GitHub', async () => {
    const before = ci.received().length;
    const callback: Callback = {
      kind: 'github',
      url: 'http://localhost:1/repos/a/b/actions/runs/1/deployment_protection_rule',
      params: { installationId: '77', environment: 'production' },
    };
    await expect(clients.decide(callback, approve)).rejects.toBeInstanceOf(CallbackRefusedError);
    expect(ci.received().length).toBe(before);
  });
});

// GitLab: gitlab-gate.test.ts; Azure DevOps and Jenkins: azure-devops.test.ts and jenkins.test.ts
// next to this file.

describe('generic Standard-Webhooks callback', () => {
  const gate = (name: string): Callback => ({
    kind: 'generic',
    url: ci.generic.pending(name),
    params: { gate: name },
  });

  it('posts a signed gate.released the receiver can verify', async () => {
    await expect(clients.decide(gate('g1'), approve)).resolves.toEqual({
      status: 'done',
      httpStatus: 200,
    });
    const [release, ...more] = effects('/generic/g1');
    expect(more).toHaveLength(0);
    expect(release?.body).toMatchObject({
      type: 'gate.released',
      data: {
        outcome: 'approve',
        comment: approve.comment,
        changeNumber: 'CHG0030001',
        params: { gate: 'g1' },
      },
    });
    const headers = new Headers(release?.headers);
    const raw = Buffer.from(JSON.stringify(release?.body));
    expect(
      verifyStandardWebhook(headers, raw, [ci.credentials.genericSecret], {
        now: new Date(),
        toleranceSeconds: 300,
      }),
    ).toMatch(/^msg_/);
  });

  it('answers already-decided to the 409 of a repeat, with the same webhook-id', async () => {
    const callback = gate('g2');
    await clients.decide(callback, approve);
    await expect(clients.decide(callback, approve)).resolves.toEqual({
      status: 'already-decided',
      httpStatus: 409,
    });
    const ids = ci
      .received()
      .filter((c) => c.path === '/generic/g2')
      .map((c) => c.headers['webhook-id']);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    expect(effects('/generic/g2')).toHaveLength(1);
  });

  it('posts gate.rejected on reject', async () => {
    await clients.decide(gate('g3'), reject);
    expect(ci.generic.state('g3')).toBe('rejected');
  });
});

describe('allow-list', () => {
  it('refuses a callback that matches no entry without making any HTTP call', async () => {
    const strict = createCallbackClients(CiSchema.parse({ allowList: ['gitlab.example.com'] }), {
      sealer,
    });
    const callback: Callback = { kind: 'generic', url: ci.generic.pending('refused'), params: {} };
    const before = ci.received().length;
    const err = await strict.decide(callback, approve).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallbackRefusedError);
    expect(err).toMatchObject({ retryable: false });
    expect(ci.received().length).toBe(before);
    expect(ci.generic.state('refused')).toBe('waiting');
  });

  it('maps a refused connection to a retryable UpstreamError', async () => {
    const callback: Callback = {
      kind: 'generic',
      url: 'http://127.0.0.1:9/generic/closed',
      params: {},
    };
    await expect(clients.decide(callback, approve)).rejects.toMatchObject({ retryable: true });
  });

  it('refuses a host it holds no credentials for without calling it', async () => {
    const callback: Callback = {
      kind: 'gitlab',
      url: 'http://localhost:9/api/v4/projects/1/deployments/2/approval',
      params: {},
    };
    await expect(clients.decide(callback, approve)).rejects.toThrow(
      /no ci.gitlab token for host localhost:9/,
    );
  });
});
