import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployFiles, ROOT, yamlDocuments } from './deploy-files.js';

/** Which test checks each file under deploy/: a new file must be added here, with its check. */
const CHECKED_BY: [RegExp, string][] = [
  [/^deploy\/changegate\.example\.yaml$/, 'test/unit/config/example.test.ts'],
  [/^deploy\/compose\.yaml$/, 'compose.test.ts'],
  [/^deploy\/compose\.env\.example$/, 'files.test.ts'],
  [/^deploy\/compose\/(receiver|workers)\.yaml$/, 'compose.test.ts'],
  [/^deploy\/kubernetes\//, 'kubernetes.test.ts'],
  [/^deploy\/strimzi\//, 'strimzi.test.ts'],
  [/^deploy\/prometheus\/alerts\.yaml$/, 'metrics-names.test.ts'],
  [/^deploy\/grafana\/changegate\.json$/, 'metrics-names.test.ts'],
];

/**
 * The ServiceNow install kit (deploy/servicenow/) and CI kit (deploy/ci/) are checked by their
 * own tests; this sweep covers the container, compose, Kubernetes, Kafka and monitoring files.
 */
const OWN_TESTS = /^deploy\/(servicenow|ci)\//;

describe('files under deploy/', () => {
  const files = deployFiles().filter((f) => !OWN_TESTS.test(f));

  it.each(files)('%s is parsed and checked by a test', (file) => {
    expect(
      CHECKED_BY.find(([re]) => re.test(file)),
      `no test checks ${file}`,
    ).toBeDefined();
    if (/\.ya?ml$/.test(file)) expect(yamlDocuments(file).length).toBeGreaterThan(0);
    if (file.endsWith('.json'))
      expect(() => JSON.parse(readFileSync(join(ROOT, file), 'utf8'))).not.toThrow();
  });

  it('lists every kustomize resource that exists, and nothing else in the kustomization directory', () => {
    for (const dir of ['deploy/kubernetes', 'deploy/strimzi']) {
      const [k] = yamlDocuments(`${dir}/kustomization.yaml`) as {
        resources: string[];
        configMapGenerator?: { files: string[] }[];
      }[];
      const listed = [
        'kustomization.yaml',
        ...k!.resources,
        ...(k!.configMapGenerator ?? []).flatMap((g) => g.files),
      ].map((f) => `${dir}/${f}`);
      const present = files.filter((f) => f.startsWith(`${dir}/`));
      // secret.example.yaml is documentation: real secrets are never applied from the repository.
      expect(present.filter((f) => !f.endsWith('secret.example.yaml')).sort()).toEqual(
        listed.sort(),
      );
    }
  });

  it('names in compose.env.example every secret compose.yaml requires', () => {
    const compose = readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8');
    const example = readFileSync(join(ROOT, 'deploy/compose.env.example'), 'utf8');
    const required = new Set([...compose.matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]!));
    expect(required.size).toBeGreaterThan(0);
    for (const name of required) expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
