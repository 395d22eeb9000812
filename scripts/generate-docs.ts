// Writes the generated pages under docs/ (never edit those by hand): `npx tsx scripts/generate-docs.ts`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from './doc-set.js';

const root = join(import.meta.dirname, '..');
for (const [file, text] of Object.entries(await generatedDocs())) {
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
