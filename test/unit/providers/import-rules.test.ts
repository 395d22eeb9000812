import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rules of the design (receivers import events only, callback clients know no policy
 * and import no worker, emulators never reach production) hold inside each provider folder.
 * Read from the source text, so a new provider folder is checked without being listed here.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const SRC = join(ROOT, 'src');

interface Import {
  /** Repo-relative path of the imported file, or the bare package name. */
  target: string;
  typeOnly: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? filesUnder(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [join(dir, d.name)]
        : [],
  );
}

const IMPORT =
  /^\s*(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (!spec) continue;
    const target = spec.startsWith('.')
      ? relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts')
      : spec;
    out.push({ target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const rel = (file: string) => relative(ROOT, file);
const providerFiles = filesUnder(join(SRC, 'providers')).map(rel);
const isEmulator = (f: string) => /^src\/providers\/[^/]+\/emulator[^/]*\.ts$/.test(f);
const isReceiver = (f: string) => /^src\/providers\/[^/]+\/receiver\//.test(f);
const providerOf = (f: string) => f.split('/')[2];

describe('import rules inside src/providers', () => {
  it('finds the provider folders it checks', () => {
    const names = new Set(providerFiles.map(providerOf));
    expect([...names].sort()).toEqual(
      expect.arrayContaining(['azure-devops', 'generic', 'github', 'gitlab', 'jenkins']),
    );
    expect(providerFiles.filter(isReceiver).length).toBeGreaterThan(20);
  });

  it('a receiver imports only events, security, the shared receiver helpers and its own folder', () => {
    const bad: string[] = [];
    for (const file of providerFiles.filter(isReceiver)) {
      const own = `src/providers/${providerOf(file)}/receiver/`;
      for (const { target, typeOnly } of importsOf(join(ROOT, file))) {
        const ok =
          !target.startsWith('src/') ||
          target.startsWith(own) ||
          target.startsWith('src/events/') ||
          target.startsWith('src/security/') ||
          (target.startsWith('src/receivers/') && target !== 'src/receivers/registry.ts') ||
          target === 'src/errors.ts' ||
          // Types of the secrets it is given: erased at run time.
          (typeOnly &&
            (target.startsWith('src/config/') ||
              target === `src/providers/${providerOf(file)}/config.ts`));
        if (!ok) bad.push(`${file} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('a callback client imports no worker, policy, gate, bus, HTTP route, receiver or emulator', () => {
    const callbackFiles = providerFiles.filter(
      (f) => !isReceiver(f) && !isEmulator(f) && /^src\/providers\/[^/]+\//.test(f),
    );
    expect(callbackFiles).toContain('src/providers/github/callback.ts');
    const bad: string[] = [];
    for (const file of callbackFiles) {
      for (const { target } of importsOf(join(ROOT, file))) {
        const refused =
          /^src\/(workers|policy|gate|bus|http|ingest|runtime|sandbox|demo|commands)\//.test(
            target,
          ) ||
          isEmulator(target) ||
          // The descriptor (index.ts) hands its receiver to the registry; nothing else does.
          (isReceiver(target) && !file.endsWith('/index.ts'));
        if (refused) bad.push(`${file} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('production never loads an emulator: only the sandbox, the demo and the CLI import them', () => {
    const bad: string[] = [];
    for (const file of filesUnder(SRC).map(rel)) {
      const mayLoad =
        file.startsWith('src/sandbox/') ||
        file.startsWith('src/demo/') ||
        file === 'src/cli.ts' ||
        isEmulator(file);
      if (mayLoad) continue;
      for (const { target, typeOnly } of importsOf(join(ROOT, file))) {
        if (typeOnly) continue;
        if (isEmulator(target) || target.startsWith('src/sandbox/'))
          bad.push(`${file} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the production registry reaches no emulator, however deep', () => {
    const seen = new Set<string>();
    const queue = ['src/providers/index.ts', 'src/ci/index.ts', 'src/receivers/registry.ts'];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const { target, typeOnly } of importsOf(join(ROOT, file))) {
        if (!typeOnly && target.startsWith('src/')) queue.push(target);
      }
    }
    expect(seen.size).toBeGreaterThan(30);
    expect([...seen].filter((f) => isEmulator(f) || f.startsWith('src/sandbox/'))).toEqual([]);
  });
});
