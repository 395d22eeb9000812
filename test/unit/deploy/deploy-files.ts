/**
 * Reading the files under deploy/ for the offline checks: YAML documents (several per file),
 * the `${VAR}` references of a changegate config, and the CLI's real command list.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Repository root (tests run from it; vitest's cwd). */
export const ROOT = process.cwd();

/** Every file under deploy/, as paths relative to the repository root. */
export function deployFiles(dir = join(ROOT, 'deploy')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? deployFiles(path) : [relative(ROOT, path)];
  });
}

/** A Kubernetes-style object: what every manifest must at least have. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/**
 * The non-empty YAML documents of a file. Throws on a YAML error (with the file named), so a
 * broken manifest fails the test that reads it.
 */
export function yamlDocuments(path: string): unknown[] {
  // merge: compose files share settings with `<<: *anchor` (a YAML 1.1 merge key).
  const docs = parseAllDocuments(readFileSync(join(ROOT, path), 'utf8'), { merge: true });
  return docs
    .map((doc) => {
      if (doc.errors.length > 0)
        throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** The first document of a YAML file. */
export function yamlFile<T = Record<string, unknown>>(path: string): T {
  const [doc] = yamlDocuments(path);
  if (doc === undefined) throw new Error(`${path} is empty`);
  return doc as T;
}

/** `${NAME}` references of a config file that have no `:-default`: the environment must set them. */
export function requiredVariables(path: string): string[] {
  const text = readFileSync(join(ROOT, path), 'utf8')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .join('\n');
  const names = [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}/g)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[1]!);
  return [...new Set(names)].sort();
}

/** A plausible value for a secret variable, shaped as the config schema wants it. */
export function sampleSecret(name: string): string {
  if (name === 'CHANGEGATE_ENCRYPTION_KEY') return Buffer.alloc(32, 7).toString('base64');
  if (/WHSEC$/.test(name)) return `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
  if (name === 'GITHUB_APP_ID') return '123456';
  if (name === 'GITHUB_APP_PRIVATE_KEY')
    return '-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----';
  return `sample-${name.toLowerCase()}`;
}

let commands: string[] | undefined;

/**
 * The top-level commands the real CLI registers, read from its `--help` (so a renamed command
 * fails the manifests that run it). Runs the TypeScript source with tsx: no build needed.
 */
export function cliCommands(): string[] {
  commands ??= parseHelp(
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CHANGEGATE_CONFIG: '' },
    }),
  );
  return commands;
}

function parseHelp(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!);
}
