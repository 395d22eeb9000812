import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The runtime the suite runs on is the supported one, and the one the container ships. */
describe('Node.js runtime', () => {
  const major = Number(process.versions.node.split('.')[0]);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
  };

  it('runs the tests on Node 24 LTS or later', () => {
    expect(major).toBeGreaterThanOrEqual(24);
  });

  it('runs the tests on the major version the Docker image ships', () => {
    const image = /ARG NODE_IMAGE=node:(\d+)/.exec(readFileSync('Dockerfile', 'utf8'));
    expect(image?.[1]).toBe(String(major));
  });

  it('declares the same major in engines and in the pinned node dev dependency', () => {
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(pkg.devDependencies.node).toMatch(new RegExp(`^\\^${major}\\.`));
  });
});
