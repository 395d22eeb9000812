import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allJsonSchemas } from '../../../scripts/schema-set.js';

describe('published JSON Schemas', () => {
  it('match the zod schemas they are generated from (run `npm run schemas` when this fails)', () => {
    for (const [file, schema] of Object.entries(allJsonSchemas())) {
      const onDisk = readFileSync(join(import.meta.dirname, '../../../schemas', file), 'utf8');
      expect(JSON.parse(onDisk), file).toEqual(schema);
    }
  });
});
