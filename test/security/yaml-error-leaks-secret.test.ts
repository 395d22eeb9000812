import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

// Issue 15 hole 6: a YAML syntax error printed the offending line, and in a config file that line
// can be a secret. The error now says where (line, column) and what kind, never the text.

const SECRET = 'Sup3r-s3cret-github-hook-value-000';

function errorText(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'changegate-yaml-'));
  const path = join(dir, 'changegate.yaml');
  writeFileSync(path, yaml);
  try {
    loadConfig({ path, env: {} });
  } catch (err) {
    return `${(err as Error).message}\n${String((err as { issues?: string[] }).issues ?? '')}`;
  }
  throw new Error('expected the config to be refused');
}

describe('a YAML syntax error on a line holding a secret', () => {
  it('shows line and column, not the line', () => {
    const text = errorText(`bus: memory\nsources:\n  github:\n    secrets: [${SECRET}: oops\n`);
    expect(text).toMatch(/not valid YAML at line \d+, column \d+: /);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('Sup3r');
  });

  it('shows line and column for a quote left open after a secret', () => {
    const text = errorText(
      `bus: memory\nsources:\n  github:\n    secrets: "${SECRET}\n  gitlab: x\n`,
    );
    expect(text).toMatch(/line \d+, column \d+/);
    expect(text).not.toContain(SECRET);
  });

  it('does not echo a value in a schema error either', () => {
    const text = errorText(`bus: memory\nserver:\n  port: "${SECRET}"\n`);
    expect(text).toMatch(/server\.port: /);
    expect(text).not.toContain(SECRET);
  });
});
