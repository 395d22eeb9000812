import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Secrets are compared in constant time everywhere: no `===`/`!==`/`==`/`!=` between a
 * secret-like value and anything that is not a literal, and every verifier goes through
 * `safeEqual`/`matchesAny` (src/security/timing-safe.ts), directly or via the shared
 * Standard-Webhooks verifier. The check reads the TypeScript syntax tree, not text, so comments
 * and strings do not count and `typeof x === 'string'` or `a.length !== b.length` are not flagged.
 */

const ROOT = join(import.meta.dirname, '../..');
const SECRET_LIKE =
  /secret|token|signature|password|passwd|hmac|digest|credential|authorization|apikey|mac$/i;
/** Production code that handles secrets. The sandboxes emulate other systems and are not ours. */
const SCANNED = [
  'src/providers',
  'src/receivers',
  'src/security',
  'src/ingest',
  'src/http',
  'src/web',
  'src/ci',
];
const EQUALITY = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    // The CI emulators (src/providers/*/emulator*.ts) stand in for the vendors in tests and
    // never run in production: like src/sandbox, they are not scanned.
    return path.endsWith('.ts') && !/\/emulator[^/]*\.ts$/.test(path) ? [path] : [];
  });
}

function isLiteral(node: ts.Expression): boolean {
  const n = ts.isParenthesizedExpression(node) ? node.expression : node;
  return (
    ts.isStringLiteralLike(n) ||
    ts.isNumericLiteral(n) ||
    n.kind === ts.SyntaxKind.NullKeyword ||
    n.kind === ts.SyntaxKind.TrueKeyword ||
    n.kind === ts.SyntaxKind.FalseKeyword ||
    (ts.isIdentifier(n) && n.text === 'undefined')
  );
}

/** Comparing lengths, sizes or types leaks nothing about a secret's content. */
function isHarmless(node: ts.Expression): boolean {
  if (ts.isTypeOfExpression(node)) return true;
  return (
    ts.isPropertyAccessExpression(node) &&
    ['length', 'size', 'type', 'kind'].includes(node.name.text)
  );
}

/** `file:line: a === b` for every plain equality on something secret-like. */
function plainSecretComparisons(fileName: string, source: string): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind)) {
      const sides = [node.left, node.right];
      const secretLike = sides.some((s) => !isHarmless(s) && SECRET_LIKE.test(s.getText(sf)));
      if (secretLike && !sides.some(isLiteral) && !sides.some(isHarmless)) {
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        found.push(`${fileName}:${line}: ${node.getText(sf)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('constant-time comparison of secrets', () => {
  it('flags a plain comparison of a signature, and not a safeEqual one', () => {
    expect(plainSecretComparisons('x.ts', 'if (offered === expectedSignature) ok();')).toEqual([
      'x.ts:1: offered === expectedSignature',
    ]);
    expect(
      plainSecretComparisons('x.ts', "if (headers.get('x-gitlab-token') != token) no();"),
    ).toHaveLength(1);
    expect(
      plainSecretComparisons(
        'x.ts',
        "if (typeof token === 'string' && secrets.length === 0 && token !== undefined && safeEqual(a, secret)) ok();",
      ),
    ).toEqual([]);
  });

  it('finds no plain equality on a secret, token or signature in the code that handles them', () => {
    const files = SCANNED.flatMap((d) => filesUnder(join(ROOT, d)));
    const found = files.flatMap((f) =>
      plainSecretComparisons(relative(ROOT, f), readFileSync(f, 'utf8')),
    );
    console.log(
      `constant-time: ${files.length} files scanned, ${found.length} plain secret comparisons`,
    );
    expect(files.length).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  it('has every verifier compare through safeEqual or matchesAny', () => {
    const verifiers = readdirSync(join(ROOT, 'src/providers'))
      .filter((d) => statSync(join(ROOT, 'src/providers', d)).isDirectory())
      .map((d) => join(ROOT, 'src/providers', d, 'receiver', 'verify.ts'))
      .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
    expect(verifiers.length).toBeGreaterThanOrEqual(6);
    const timingSafe =
      /import \{[^}]*\b(safeEqual|matchesAny)\b[^}]*\} from '[./]*security\/timing-safe\.js'/;
    for (const file of verifiers) {
      const source = readFileSync(file, 'utf8');
      const direct = timingSafe.test(source) && /\b(safeEqual|matchesAny)\(/.test(source);
      const shared = /\bverifyStandardWebhook\(/.test(source);
      expect(direct || shared, relative(ROOT, file)).toBe(true);
    }
    const shared = readFileSync(join(ROOT, 'src/security/standard-webhooks.ts'), 'utf8');
    expect(shared).toMatch(/import \{ safeEqual \} from '\.\/timing-safe\.js'/);
    expect(shared).toMatch(/safeEqual\(candidate, expected\)/);
    const primitive = readFileSync(join(ROOT, 'src/security/timing-safe.ts'), 'utf8');
    expect(primitive).toMatch(/timingSafeEqual\(digest\(a\), digest\(b\)\)/);
  });
});
