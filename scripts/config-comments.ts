import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The config schema documents its keys with JSDoc comments, not `.describe()`, so the comments
 * never reach `z.toJSONSchema`. This reads them back from the source: every `z.object({...})`
 * literal in `src/config/` becomes a "shape" (its key set, the comment on each key, the comment
 * on the `const` it initializes). The reference generator finds the shape of a JSON Schema object
 * by its exact key set, which is unique across the config sections.
 *
 * @module
 */

export interface ConfigShape {
  /** Sorted keys of the object literal. */
  keys: string[];
  /** JSDoc text per key, for keys that have one. */
  docs: Record<string, string>;
  /** JSDoc of the `const` whose initializer is this object, if any. */
  doc?: string | undefined;
}

const OBJECT_FACTORIES = new Set(['object', 'looseObject', 'strictObject']);

/** The JSDoc text on a node: comment lines joined, `@tags` dropped. */
function jsDocOf(node: ts.Node, source: ts.SourceFile): string | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const docs = ranges
    .map((r) => source.text.slice(r.pos, r.end))
    .filter((text) => text.startsWith('/**'));
  const last = docs.at(-1);
  if (!last) return undefined;
  const text = last
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, '').trim())
    .filter((line) => !line.startsWith('@'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text || undefined;
}

function propertyName(name: ts.PropertyName, source: ts.SourceFile): string {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) {
    return name.text;
  }
  return name.getText(source);
}

/** The `const` declaration whose initializer chain starts with `call`, if any. */
function declaringStatement(call: ts.Node): ts.VariableStatement | undefined {
  let node: ts.Node = call;
  while (
    node.parent &&
    (ts.isPropertyAccessExpression(node.parent) || ts.isCallExpression(node.parent))
  ) {
    node = node.parent;
  }
  const decl = node.parent;
  if (!decl || !ts.isVariableDeclaration(decl)) return undefined;
  const list = decl.parent;
  return list && ts.isVariableStatement(list.parent) ? list.parent : undefined;
}

type Section = 'source' | 'ci';
type Sections = Record<Section, { keys: string[]; docs: Record<string, string> }>;

/** `...sourcesShape()` / `...ciShape()`: the providers' sections (src/providers/config-sections.ts). */
const SPREADS: Record<string, Section> = { sourcesShape: 'source', ciShape: 'ci' };

function spreadSection(prop: ts.SpreadAssignment): Section | undefined {
  const e = prop.expression;
  return ts.isCallExpression(e) && ts.isIdentifier(e.expression)
    ? SPREADS[e.expression.text]
    : undefined;
}

const PROVIDERS_DIR = join(import.meta.dirname, '..', 'src', 'providers');

/**
 * The keys each provider adds to `sources:` and `ci:`, with their docs: `source: { key, schema }`
 * in `src/providers/<name>/index.ts` names the key, and the JSDoc of that schema's `const` in
 * `config.ts` is the key's doc.
 */
export function providerSections(dir = PROVIDERS_DIR): Sections {
  const sections: Sections = { source: { keys: [], docs: {} }, ci: { keys: [], docs: {} } };
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    if (!name.isDirectory()) continue;
    const read = (f: string) => {
      const path = join(dir, name.name, f);
      return ts.createSourceFile(f, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2023, true);
    };
    let index: ts.SourceFile;
    let config: ts.SourceFile;
    try {
      index = read('index.ts');
      config = read('config.ts');
    } catch {
      continue;
    }
    const constDocs: Record<string, string | undefined> = {};
    for (const statement of config.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const decl of statement.declarationList.declarations) {
        if (ts.isIdentifier(decl.name)) constDocs[decl.name.text] = jsDocOf(statement, config);
      }
    }
    const visit = (node: ts.Node): void => {
      if (
        ts.isPropertyAssignment(node) &&
        ts.isIdentifier(node.name) &&
        (node.name.text === 'source' || node.name.text === 'ci') &&
        ts.isObjectLiteralExpression(node.initializer)
      ) {
        const { properties } = node.initializer;
        const field = (n: string) =>
          properties.find(
            (p): p is ts.PropertyAssignment =>
              ts.isPropertyAssignment(p) && propertyName(p.name, index) === n,
          )?.initializer;
        const key = field('key');
        const schema = field('schema');
        if (key && ts.isStringLiteral(key)) {
          const section = sections[node.name.text];
          section.keys.push(key.text);
          const doc = schema && ts.isIdentifier(schema) ? constDocs[schema.text] : undefined;
          if (doc) section.docs[key.text] = doc;
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(index);
  }
  return sections;
}

/** Every object shape of one TypeScript source text. */
export function shapesOfSource(
  text: string,
  fileName = 'config.ts',
  sections: Sections = providerSections(),
): ConfigShape[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2023, true);
  const shapes: ConfigShape[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      OBJECT_FACTORIES.has(node.expression.name.text) &&
      node.arguments[0] &&
      ts.isObjectLiteralExpression(node.arguments[0])
    ) {
      const docs: Record<string, string> = {};
      const keys: string[] = [];
      for (const prop of node.arguments[0].properties) {
        const spread = ts.isSpreadAssignment(prop) ? spreadSection(prop) : undefined;
        if (spread) {
          const section = sections[spread];
          keys.push(...section.keys);
          Object.assign(docs, section.docs);
          continue;
        }
        if (!ts.isPropertyAssignment(prop) && !ts.isShorthandPropertyAssignment(prop)) continue;
        const key = propertyName(prop.name, source);
        keys.push(key);
        const doc = jsDocOf(prop, source);
        if (doc) docs[key] = doc;
      }
      const statement = declaringStatement(node);
      shapes.push({
        keys: keys.sort(),
        docs,
        doc: statement ? jsDocOf(statement, source) : undefined,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return shapes;
}

/**
 * Every object shape of the `.ts` files in `dir` (default: `src/config`), and of the providers'
 * config fragments (`src/providers/<name>/config.ts`).
 */
export function configShapes(
  dir = join(import.meta.dirname, '..', 'src', 'config'),
  providersDir = PROVIDERS_DIR,
): ConfigShape[] {
  const sections = providerSections(providersDir);
  const files = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => join(dir, f)),
    ...readdirSync(providersDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(providersDir, d.name, 'config.ts'))
      .sort(),
  ];
  return files.flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      return [];
    }
    return shapesOfSource(text, f, sections);
  });
}
