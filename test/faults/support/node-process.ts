import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type CliProcess } from '../../e2e/support/process.js';

/**
 * A TypeScript script of this repository as a child process (`node --import tsx <script>`), with
 * the same handle as the e2e suite's `spawnCli` (which only runs `src/cli.ts`): stdout lines
 * kept for `waitForLine`, both streams teed to `<logDir>/<name>.*.log`, `stop()` and `kill()`.
 *
 * @module
 */

export interface SpawnScriptOptions {
  name: string;
  /** Path relative to the repository root. */
  script: string;
  logDir: string;
  env?: Record<string, string | undefined>;
}

/** @example const sn = spawnScript({ name: 'servicenow', script: 'test/faults/support/sandbox-main.ts', logDir }) */
export function spawnScript({ name, script, logDir, env = {} }: SpawnScriptOptions): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`[faults] could not start ${name}`);
  child.stdout.pipe(createWriteStream(join(logDir, `${name}.stdout.log`), { flags: 'a' }));
  child.stderr.pipe(createWriteStream(join(logDir, `${name}.stderr.log`), { flags: 'a' }));

  const lines: string[] = [];
  const waiters = new Set<(line: string) => boolean>();
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) if (waiter(line)) waiters.delete(waiter);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (gone) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return {
    name,
    pid: child.pid,
    lines: () => [...lines],
    waitForLine: (match, timeoutMs) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`[faults] ${name}: expected line not seen in ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (line: string) => {
          if (!match(line)) return false;
          clearTimeout(timer);
          resolve(line);
          return true;
        };
        waiters.add(waiter);
        void exited.then(({ code, signal: sig }) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`[faults] ${name} exited (${code ?? sig}) before ready; see ${logDir}`));
        });
      });
    },
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
    exited,
  };
}
