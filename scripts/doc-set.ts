import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { configReferenceMarkdown } from './config-reference.js';

/**
 * Every generated Markdown page, by path from the repository root, formatted as `prettier --check`
 * expects (so `npm run lint` and the staleness test agree).
 */
export async function generatedDocs(): Promise<Record<string, string>> {
  const root = join(import.meta.dirname, '..');
  const pages: Record<string, string> = { 'docs/configuration.md': configReferenceMarkdown() };
  const out: Record<string, string> = {};
  for (const [file, text] of Object.entries(pages)) {
    const filepath = join(root, file);
    out[file] = await format(text, { ...(await resolveConfig(filepath)), filepath });
  }
  return out;
}
