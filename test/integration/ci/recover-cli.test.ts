import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCiEmulator, type CiEmulator } from '../../../src/sandbox/ci/index.js';
import { githubFixture } from '../../fixtures/github-request.js';
import { freePort } from '../../support/process-stack/free-port.js';
import { spawnProcess } from '../../support/process-stack/process.js';

/**
 * `changegate recover github` as a user runs it: a process, the point on the real broker (a topic
 * of its own per run), the emulated GitHub as the App's API.
 */

const brokers = process.env.KAFKA_BROKERS;
// A Kafka config is refused without the key that seals callback credentials.
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
let ci: CiEmulator;
let target: Server;
let targetUrl: string;
let config: string;
const received: string[] = [];

beforeAll(async () => {
  ci = await startCiEmulator();
  target = createServer((req, res) => {
    received.push(String(req.headers['x-github-delivery']));
    req.resume();
    res.writeHead(202).end();
  });
  const port = await freePort();
  await new Promise<void>((r) => target.listen(port, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${port}/hooks/github`;
  const dir = mkdtempSync(join(tmpdir(), 'changegate-recover-'));
  config = join(dir, 'changegate.yaml');
  writeFileSync(
    config,
    stringify({
      kafka: {
        brokers: (brokers ?? '').split(','),
        topics: { recovery: `changegate-test.recovery-${randomBytes(4).toString('hex')}` },
      },
      ci: {
        github: {
          appId: ci.credentials.githubAppId,
          privateKey: ci.credentials.githubAppPrivateKey,
          apiUrl: ci.url,
        },
        // The emulator listens on loopback, which callbacks refuse unless allowed.
        allowLoopback: true,
      },
      security: { encryptionKey: ENCRYPTION_KEY },
    }),
  );
});
afterAll(async () => {
  await ci?.close();
  await new Promise((r) => target?.close(r));
});

async function recover(...args: string[]) {
  const run = spawnProcess({
    name: 'recover',
    args: ['-c', config, 'recover', 'github', ...args],
    env: { KAFKA_BROKERS: brokers! },
  });
  const { code } = await run.exited;
  expect(code, run.stderr()).toBe(0);
  return JSON.parse(run.stdout().trim().split('\n').at(-1)!) as {
    redelivered: { guid: string }[];
    examined: number;
  };
}

describe.skipIf(!brokers)('changegate recover github (process, Kafka)', () => {
  it('redelivers the failed delivery once, and the stored point makes a second run a no-op', async () => {
    ci.github.hook.configure({ url: 'http://127.0.0.1:9/hooks/github', secret: 's' });
    const lost = await ci.github.hook.deliver(
      'workflow_run',
      githubFixture('workflow_run.completed'),
    );
    expect(lost.status).not.toBe('OK');
    ci.github.hook.configure({ url: targetUrl, secret: 's' });

    const first = await recover();
    expect(first.redelivered.map((d) => d.guid)).toEqual([lost.guid]);
    expect(received).toEqual([lost.guid]);

    const second = await recover();
    expect(second.redelivered).toEqual([]);
    expect(received).toEqual([lost.guid]);
  }, 60_000);

  it('refuses a malformed --since with a clear message and a non-zero exit', async () => {
    const run = spawnProcess({
      name: 'recover',
      args: ['-c', config, 'recover', 'github', '--since', 'yesterday'],
      env: { KAFKA_BROKERS: brokers! },
    });
    expect((await run.exited).code).not.toBe(0);
    expect(run.stdout() + run.stderr()).toMatch(/--since takes an ISO time/);
  }, 30_000);
});
