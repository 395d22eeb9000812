import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A TypeScript entry point of this repository as a real child process (`node --import tsx
 * <script> …args`, `src/cli.ts` unless told otherwise): stdout and stderr teed to
 * `<logDir>/<name>.stdout.log` / `.stderr.log` for debugging and kept in memory, so a test can
 * wait for a log line, parse what a command printed, and stop or SIGKILL it.
 *
 * @module
 */

/** The repository root: every process runs there so `tsx` finds tsconfig.json. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TestProcess {
  name: string;
  pid: number;
  logDir: string;
  /** stdout lines so far. */
  lines(): string[];
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolve with the first stdout line (past or future) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGKILL: the crash case (no shutdown, no offset commit, no group leave). */
  kill(): Promise<Exit>;
  /** Resolves once the process ended and its output was read to the end. */
  exited: Promise<Exit>;
}

export interface SpawnOptions {
  name: string;
  /** Path relative to the repository root. */
  script?: string;
  args?: string[];
  /** Where the log files go; a new temporary directory when absent. */
  logDir?: string;
  /** Added to the environment (`undefined` removes a variable). */
  env?: Record<string, string | undefined>;
}

/** True for a JSON log line whose `msg` is `msg`. */
export const isLogLine = (msg: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg === msg;
  } catch {
    return false;
  }
};

/**
 * Start a process.
 * @throws Error when it cannot be started at all
 * @example const worker = spawnProcess({ name: 'worker', args: ['-c', file, 'worker', 'gate'], logDir })
 */
export function spawnProcess({
  name,
  script = 'src/cli.ts',
  args = [],
  logDir = mkdtempSync(join(tmpdir(), 'changegate-proc-')),
  env = {},
}: SpawnOptions): TestProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    // Config comes from the files and variables the test gives, never from the runner's own
    // environment; log lines at info, which tests wait for, whatever LOG_LEVEL the runner has.
    env: {
      ...process.env,
      CHANGEGATE_CONFIG: undefined,
      KAFKA_BROKERS: undefined,
      CHANGEGATE_SERVICENOW_URL: undefined,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`[process] could not start ${name}`);
  const out = createWriteStream(join(logDir, `${name}.stdout.log`), { flags: 'a' });
  const err = createWriteStream(join(logDir, `${name}.stderr.log`), { flags: 'a' });
  child.stdout.pipe(out);
  child.stderr.pipe(err);

  const lines: string[] = [];
  const waiters = new Set<(line: string) => boolean>();
  let partial = '';
  let errors = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) if (waiter(line)) waiters.delete(waiter);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (errors += chunk));

  // 'close', not 'exit': only then has everything the process printed been read.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const waitForLine = (match: (line: string) => boolean, timeoutMs: number) => {
    const seen = lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`[process] ${name}: expected line not seen in ${timeoutMs} ms (${logDir})`),
        );
      }, timeoutMs);
      const waiter = (line: string) => {
        if (!match(line)) return false;
        clearTimeout(timer);
        resolve(line);
        return true;
      };
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(
          new Error(`[process] ${name} exited (${code ?? signal}) before ready; see ${logDir}`),
        );
      });
    });
  };

  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (gone) return exited;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };

  return {
    name,
    pid: child.pid,
    logDir,
    lines: () => [...lines],
    stdout: () => lines.map((l) => `${l}\n`).join('') + partial,
    stderr: () => errors,
    waitForLine,
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
    kill: () => signal('SIGKILL', 0),
    exited,
  };
}

/**
 * Poll `url` until it answers 200.
 * @throws Error naming the log directory when the process exits first or `timeoutMs` passes
 */
export async function waitHttp(url: string, proc: TestProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void proc.exited.then(() => (gone = true));
  for (;;) {
    if (gone)
      throw new Error(`[process] ${proc.name} exited before ${url} answered; see ${proc.logDir}`);
    const res = await fetch(url).catch(() => undefined);
    if (res) await res.arrayBuffer();
    if (res?.status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`[process] ${url} not ready in ${timeoutMs} ms; see ${proc.logDir}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
