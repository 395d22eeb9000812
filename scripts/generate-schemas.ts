// Writes schemas/ from the zod schemas (never edit those files by hand): `npm run schemas`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { allJsonSchemas } from './schema-set.js';

const root = join(import.meta.dirname, '..', 'schemas');
for (const [file, schema] of Object.entries(allJsonSchemas())) {
  const path = join(root, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(allJsonSchemas()).length} schemas to ${root}`);
