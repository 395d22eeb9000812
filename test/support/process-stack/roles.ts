import { isLogLine, spawnProcess, waitHttp, type TestProcess } from './process.js';

/**
 * changegate's two process roles as a stack starts them: a receiver (`start`) and a worker
 * process (`worker <names>`), each resolved once it serves, and stopped again if it never does.
 *
 * @module
 */

export interface RoleOptions {
  /** Process name, for its log files (`<name>.stdout.log`). */
  name: string;
  logDir: string;
  configPath: string;
  timeoutMs: number;
  /** Pushed here as soon as it is spawned, so a stack closed meanwhile stops it too. */
  processes?: TestProcess[];
}

async function ready(
  proc: TestProcess,
  until: Promise<unknown>,
  processes: TestProcess[] = [],
): Promise<TestProcess> {
  processes.push(proc);
  try {
    await until;
    return proc;
  } catch (err) {
    await proc.stop(2000);
    throw err;
  }
}

/**
 * `changegate --config <file> start …args`, resolved once `<url><probe>` answers 200 (`/healthz`
 * for a receiver that must come up while Kafka is down).
 */
export function startReceiverProcess({
  url,
  args = [],
  probe = '/readyz',
  ...o
}: RoleOptions & { url: string; args?: string[]; probe?: string }): Promise<TestProcess> {
  const proc = spawnProcess({
    name: o.name,
    logDir: o.logDir,
    args: ['--config', o.configPath, 'start', ...args],
  });
  return ready(proc, waitHttp(`${url}${probe}`, proc, o.timeoutMs), o.processes);
}

/** `changegate --config <file> worker <names>`, resolved once its consumer groups joined. */
export function startWorkerProcess({
  names,
  ...o
}: RoleOptions & { names: string }): Promise<TestProcess> {
  const proc = spawnProcess({
    name: o.name,
    logDir: o.logDir,
    // Health port 0: worker processes side by side (and other runs on this machine) never clash.
    args: ['--config', o.configPath, 'worker', names, '--port', '0'],
  });
  // Logged after every consumer group joined: from here on nothing published is missed.
  return ready(proc, proc.waitForLine(isLogLine('workers running'), o.timeoutMs), o.processes);
}
