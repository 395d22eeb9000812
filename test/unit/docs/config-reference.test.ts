import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shapesOfSource } from '../../../scripts/config-comments.js';
import { configJsonSchema, configReferenceMarkdown } from '../../../scripts/config-reference.js';
import { generatedDocs } from '../../../scripts/doc-set.js';
import { ConfigSchema } from '../../../src/config/schema.js';

const root = join(import.meta.dirname, '../../..');

describe('configuration reference', () => {
  it('is up to date with the config schema (run `npx tsx scripts/generate-docs.ts` when this fails)', async () => {
    for (const [file, text] of Object.entries(await generatedDocs())) {
      expect(readFileSync(join(root, file), 'utf8'), file).toBe(text);
    }
  });

  it('lists every key of the defaults with its default value', () => {
    const markdown = configReferenceMarkdown();
    const defaults = ConfigSchema.parse({ bus: 'memory' });
    expect(markdown).toContain('| `kafka.topics.cicd` | string | `"changegate.cicd.events"` |');
    expect(markdown).toContain(
      `| \`ingest.maxBodyBytes\` | integer | \`${defaults.ingest.maxBodyBytes}\` |`,
    );
    expect(markdown).toContain('`servicenow.connections.<name>.auth.grant`');
    expect(markdown).toContain('`changes.policies[].mode`');
    for (const section of Object.keys(defaults)) expect(markdown).toContain(`## \`${section}\``);
  });

  it('carries the JSDoc of a key into its description', () => {
    expect(configReferenceMarkdown()).toMatch(
      /\| `ci\.allowLoopback` \| boolean \| `false` \| Allow http and https callbacks to 127\.0\.0\.0\/8/,
    );
  });

  it('reads JSDoc per key and per schema constant from TypeScript source', () => {
    const shapes = shapesOfSource(`
      /** The whole thing. */
      export const S = z.object({
        /** Port to listen on. */
        port: z.number(),
        host: z.string(),
      }).prefault({});`);
    expect(shapes).toEqual([
      { keys: ['host', 'port'], docs: { port: 'Port to listen on.' }, doc: 'The whole thing.' },
    ]);
  });

  it('publishes the JSON Schema of the configuration file', () => {
    const schema = configJsonSchema();
    expect(schema.$id).toBe('https://changegate.dev/schemas/config.schema.json');
    expect(Object.keys(schema.properties as object)).toEqual(Object.keys(ConfigSchema.shape));
  });
});
