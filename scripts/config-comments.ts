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

/** Every object shape of one TypeScript source text. */
export function shapesOfSource(text: string, fileName = 'config.ts'): ConfigShape[] {
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

/** Every object shape of the `.ts` files in `dir` (default: `src/config`). */
export function configShapes(
  dir = join(import.meta.dirname, '..', 'src', 'config'),
): ConfigShape[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .flatMap((f) => shapesOfSource(readFileSync(join(dir, f), 'utf8'), f));
}
