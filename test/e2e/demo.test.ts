import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx tsx src/cli.ts demo …` as a real process, stdout a pipe (so no colours are expected). */
function demo(args: string[] = []): Promise<Run> {
  const env = { ...process.env };
  for (const name of ['NO_COLOR', 'FORCE_COLOR', 'LOG_LEVEL', 'CHANGEGATE_CONFIG'])
    delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli.ts', 'demo', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 55_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const match = (text: string, pattern: RegExp): RegExpMatchArray => {
  const m = text.match(pattern);
  if (!m) throw new Error(`no line matches ${pattern} in:\n${text}`);
  return m;
};

describe('npm run demo', () => {
  it('tells the whole story of a released, a successful and a failed deployment, then exits 0', async () => {
    const { code, stdout, stderr } = await demo();
    expect(code, stderr).toBe(0);

    // 1. what is running, with real URLs
    expect(stdout).toMatch(/changegate receiver +http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/ServiceNow sandbox +http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/CI emulator \(GitHub\) +http:\/\/127\.0\.0\.1:\d+/);

    // 2. signed delivery accepted, tampered copy refused, redelivery deduplicated
    expect(stdout).toMatch(/deployment_protection_rule +acme\/payments → production +202 Accepted/);
    expect(stdout).toMatch(/tampered copy.*401 Unauthorized/);
    expect(stdout).toMatch(/redelivers the same delivery.*200 OK +deduplicated/);

    // 3. the CR as the sandbox holds it
    const first = match(
      stdout,
      /created (CHG\d{7}) in ServiceNow +type=normal +state=Assess +approval=requested/,
    )[1]!;

    // 4. held, approved, released with a measured latency
    expect(stdout).toMatch(new RegExp(`deployment held: gate registered on ${first}`));
    expect(stdout).toMatch(new RegExp(`gate moved ${first} to Implement`));
    expect(stdout).toMatch(
      /received the release: POST \/repos\/acme\/payments\/actions\/runs\/8123456789\/deployment_protection_rule .* 204/,
    );
    const latencies = [...stdout.matchAll(/released (\d+) ms after the approval/g)].map((m) =>
      Number(m[1]),
    );
    expect(latencies).toHaveLength(2);
    for (const ms of latencies) expect(ms).toBeGreaterThanOrEqual(0);

    // 5. closed successful, then the failed one closed unsuccessful with a follow-up
    expect(stdout).toMatch(new RegExp(`closed ${first}: state=Closed +close_code=successful`));
    const second = match(stdout, /closed (CHG\d{7}): state=Closed +close_code=unsuccessful/)[1]!;
    expect(second).not.toBe(first);
    expect(stdout).toMatch(
      new RegExp(`opened follow-up CHG\\d{7} \\(New\\): "Follow-up / rollback for ${second}`),
    );

    // 6. summary and the figures from /metrics
    expect(stdout).toMatch(
      new RegExp(`${first} +run 8123456789 +normal +Closed +approved +successful +released`),
    );
    expect(stdout).toMatch(
      new RegExp(`${second} +run 8123456790 +normal +Closed +approved +unsuccessful +released`),
    );
    // Issue D: the same story files an incident for the failure and updates the CMDB on success.
    expect(stdout).toMatch(
      /cmdb worker registered acme\/payments in the CMDB \(cmdb_ci_appl, version [0-9a-f]{7}\)/,
    );
    expect(stdout).toMatch(/incident worker filed INC\d{7}: .*caused_by CHG\d{7}/);
    expect(stdout).toMatch(/change creation time +\d+ ms mean over 2 CR\(s\)/);
    expect(stdout).toMatch(/gate release latency +\d+ ms mean over 2 release\(s\)/);
    expect(stdout).toMatch(/change success rate +50 % \(1 successful, 1 unsuccessful\)/);
    expect(stdout).toMatch(/github: .*1 rejected_signature, 1 duplicate/);

    // a timeline: story lines are stamped with ms since start; no colours on a pipe
    expect(stdout).toMatch(/^ +\d+ ms {2}change worker created/m);
    expect(stdout.includes('\u001b[')).toBe(false);
  }, 60_000);

  it('fails with exit code 1 and names the step that did not happen in time', async () => {
    const { code, stderr } = await demo(['--timeout', '1', '--approve-after', '0']);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /\[changegate\/demo\] no change request for github\/acme\/payments\/run-8123456789-production within 1 ms/,
    );
  }, 60_000);
});
