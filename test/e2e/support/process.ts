import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One real `changegate` process (`node --import tsx src/cli.ts …`) with its stdout and stderr
 * teed to files for debugging and kept in memory as lines, so a test can wait for a log line.
 *
 * @module
 */

/** The repository root: every process runs there so `tsx` finds tsconfig.json. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliProcess {
  name: string;
  pid: number;
  /** stdout lines so far (stderr is only in the log file). */
  lines(): string[];
  /** Resolve with the first stdout line (past or future) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: the crash case. Resolves when the process is gone. */
  kill(): Promise<void>;
  /** Exit code (or signal) once it exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnCliOptions {
  name: string;
  args: string[];
  /** Directory for `<name>.stdout.log` / `<name>.stderr.log`. */
  logDir: string;
  env?: Record<string, string | undefined>;
}

/** Start `changegate <args>` as a child process. */
export function spawnCli({ name, args, logDir, env = {} }: SpawnCliOptions): CliProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args],
    {
      cwd: REPO_ROOT,
      // Config comes from the files we write, never from the test runner's environment.
      env: {
        ...process.env,
        CHANGEGATE_CONFIG: undefined,
        KAFKA_BROKERS: undefined,
        CHANGEGATE_SERVICENOW_URL: undefined,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error(`[e2e] could not start ${name}`);
  const out: WriteStream = createWriteStream(join(logDir, `${name}.stdout.log`), { flags: 'a' });
  const err: WriteStream = createWriteStream(join(logDir, `${name}.stderr.log`), { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(err);

  const lines: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve: (l: string) => void }>();
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      out.end();
      err.end();
      resolve({ code, signal });
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const waitForLine = (match: (line: string) => boolean, timeoutMs: number) => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (l: string) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`[e2e] ${name}: expected log line not seen within ${timeoutMs} ms (${logDir})`),
        );
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`[e2e] ${name} exited (${code ?? signal}) before ready; see ${logDir}`));
      });
    });
  };

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
    waitForLine,
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
    exited,
  };
}
