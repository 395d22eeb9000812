import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliCommands, ROOT } from './deploy-files.js';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const args = new Map(
  dockerfile
    .filter((i) => i.op === 'ARG' && i.args.includes('='))
    .map((i) => i.args.split('=', 2) as [string, string]),
);
const resolve = (s: string) =>
  s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args.get(a ?? b) ?? '');
const stages = (() => {
  const out: Instruction[][] = [];
  for (const i of dockerfile) {
    if (i.op === 'FROM') out.push([]);
    out.at(-1)?.push(i);
  }
  return out;
})();
const runtime = stages.at(-1) ?? [];
const stageNames = new Set(stages.map((s) => /\bAS\s+(\S+)/i.exec(s[0]!.args)?.[1]));
const one = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);
const execForm = (i: Instruction | undefined) => JSON.parse(i?.args ?? 'null') as string[];

describe('Dockerfile (static rules)', () => {
  it('builds every stage from an official node image pinned to a major version, never latest', () => {
    for (const stage of stages) {
      const image = resolve(stage[0]!.args.split(/\s+/)[0]!);
      expect(image, stage[0]!.args).toMatch(/^node:\d+(\.\d+)*-[a-z0-9-]+$/);
      expect(image).not.toMatch(/latest/);
    }
  });

  it('runs the final image on Node 24 LTS', () => {
    expect(resolve(runtime[0]!.args)).toMatch(/^node:24[-.]/);
  });

  it('installs with npm ci from a copied package-lock.json', () => {
    const runs = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
    for (const stage of stages) {
      const ciAt = stage.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
      if (ciAt < 0) continue;
      const lockAt = stage.findIndex((i) => i.op === 'COPY' && /package-lock\.json/.test(i.args));
      expect(lockAt).toBeGreaterThanOrEqual(0);
      expect(lockAt).toBeLessThan(ciAt);
    }
  });

  it('compiles src/ with the build script into the dist/ that the entrypoint runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      bin: Record<string, string>;
    };
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: 'src' });
    const copied = dockerfile.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const needed of ['tsconfig.json', 'tsconfig.build.json', 'src'])
      expect(
        copied.some((c) => c.split(/\s+/).includes(needed)),
        needed,
      ).toBe(true);
    expect(dockerfile.some((i) => i.op === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(execForm(one(runtime, 'ENTRYPOINT')[0])).toEqual(['node', pkg.bin.changegate]);
  });

  it('starts the receiver by default with a command the CLI really has', () => {
    const cmd = execForm(one(runtime, 'CMD')[0]);
    expect(cmd).toEqual(['start']);
    expect(cliCommands()).toContain('start');
  });

  it('runs as a numeric non-root user, so Kubernetes runAsNonRoot can verify it', () => {
    const user = one(runtime, 'USER').at(-1)?.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user).not.toMatch(/^0(:|$)/);
  });

  it('checks /healthz on the port it exposes', () => {
    const port = /\bPORT=(\d+)/.exec(
      one(runtime, 'ENV')
        .map((e) => e.args)
        .join(' '),
    )?.[1];
    expect(port).toBeDefined();
    expect(one(runtime, 'EXPOSE').map((e) => e.args)).toEqual([port]);
    const health = one(runtime, 'HEALTHCHECK')[0]?.args ?? '';
    expect(health).toMatch(/\/healthz/);
    expect(health).toMatch(/--timeout=\d+s/);
  });

  it('copies only what exists, from stages that exist, and nothing .dockerignore drops', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const copy of dockerfile.filter((i) => i.op === 'COPY')) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const from = /--from=(\S+)/.exec(copy.args)?.[1];
      if (from) {
        expect(stageNames.has(from), `stage ${from}`).toBe(true);
        continue;
      }
      for (const source of parts.slice(0, -1)) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        expect(ignored, `${source} is in .dockerignore`).not.toContain(source);
      }
    }
    // The context stays small: dependencies and build output are rebuilt inside.
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });
});

const engine = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
if (!engine) {
  console.info('Dockerfile build test skipped: no Docker engine (`docker info` failed)');
}

describe.skipIf(!engine)('Dockerfile (built with the local Docker engine)', () => {
  it('builds an image whose entrypoint lists the workers and runs as uid 1000', () => {
    const tag = `changegate:test-${process.pid}`;
    try {
      execFileSync('docker', ['build', '-t', tag, '.'], { cwd: ROOT, stdio: 'inherit' });
      const help = execFileSync('docker', ['run', '--rm', tag, 'worker', '--help'], {
        encoding: 'utf8',
      });
      expect(help).toMatch(/change, gate, incident, cmdb, evidence, notify/);
      const uid = execFileSync('docker', ['run', '--rm', '--entrypoint', 'id', tag, '-u'], {
        encoding: 'utf8',
      });
      expect(uid.trim()).toBe('1000');
    } finally {
      spawnSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    }
  }, 600_000);
});
