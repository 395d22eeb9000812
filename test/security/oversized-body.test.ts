import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Issue 15 hole 3: `POST /status/session` parsed its form before any limit or token check, so
// one anonymous 48 MiB body grew the receiver by 180 MB. Every route now refuses a body over the
// limit before reading it, in a process of its own here so its memory can be measured.

const MIB = 1024 * 1024;
let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/security/support/rss-receiver.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
  });
  url = (JSON.parse(line) as { url: string }).url;
}, 60_000);
afterAll(() => {
  child?.kill('SIGTERM');
});

const rss = async () =>
  (await (await fetch(`${url}/test/rss`)).json()) as { rss: number; peak: number };

/** Stream `total` bytes in 64 KiB chunks (chunked, or with a true Content-Length) until answered. */
function sendBig(path: string, total: number, declare: boolean): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {
      'content-type': path.includes('session')
        ? 'application/x-www-form-urlencoded'
        : 'application/json',
    };
    if (declare) headers['content-length'] = String(total);
    const req = request(`${url}${path}`, { method: 'POST', headers });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', () => {
      if (!answered) resolve('closed');
    });
    const chunk = Buffer.alloc(64 * 1024, declare ? 'a' : 't');
    let sent = 0;
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

const ROUTES = [
  '/status/session',
  '/hooks/github',
  '/hooks/generic/argo',
  '/metrics',
  '/status',
  '/nowhere',
];

describe('a 20 MiB body sent to any route', () => {
  for (const declare of [false, true]) {
    it(`is refused before it is read (${declare ? 'Content-Length' : 'chunked'}): RSS grows less than 30 MB`, async () => {
      const base = await rss();
      const answers: Record<string, number | 'closed'> = {};
      for (const path of ROUTES) answers[path] = await sendBig(path, 20 * MIB, declare);
      const after = await rss();
      const growth = (Math.max(after.peak, after.rss) - base.rss) / MIB;
      console.log(
        `20 MiB ${declare ? 'declared' : 'chunked'} bodies: peak RSS growth ${growth.toFixed(1)} MB; answers ${JSON.stringify(answers)}`,
      );
      expect(growth).toBeLessThan(30);
      // The receiver answers 413 and closes instead of draining the rest, so a client still
      // writing may see the connection closed before it reads the answer.
      for (const path of ['/status/session', '/hooks/github', '/hooks/generic/argo'])
        expect([413, 'closed'], path).toContain(answers[path]);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    }, 60_000);
  }
});
