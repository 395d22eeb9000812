import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CheckSuitePayload,
  DeploymentProtectionRulePayload,
  DeploymentStatusPayload,
  OwnerPayload,
  RepositoryPayload,
  WorkflowJobPayload,
  WorkflowRunPayload,
} from '../../../../../src/providers/github/receiver/payloads.js';

/**
 * Every field path the zod payload schemas read must exist in GitHub's own webhook schema
 * (`@octokit/openapi-webhooks`, generated from github/rest-api-description) for that event and
 * every one of its actions, and a field we require must be one GitHub always sends. A path that
 * fails here is a field the normalizer waits for in vain (as `head_commit` once was).
 */

const require = createRequire(import.meta.url);
const PACKAGE = '@octokit/openapi-webhooks';
const version = (require(`${PACKAGE}/package.json`) as { version: string }).version;

type Json = { [key: string]: unknown };
interface Webhook {
  post: {
    operationId: string;
    'x-github': { subcategory: string };
    requestBody: { content: { 'application/json': { schema: Json } } };
  };
}
const spec = require(`${PACKAGE}/generated/api.github.com.json`) as {
  webhooks: Record<string, Webhook>;
  components: { schemas: Record<string, Json> };
};

/** `{ event, action }` of every webhook GitHub describes, with its payload schema. */
const webhooks = Object.values(spec.webhooks).map((w) => ({
  event: w.post['x-github'].subcategory,
  action: w.post.operationId.split('/')[1] ?? null,
  schema: w.post.requestBody.content['application/json'].schema,
}));

function deref(schema: Json): Json {
  let s = schema;
  for (let i = 0; typeof s.$ref === 'string' && i < 20; i++) {
    s = spec.components.schemas[(s.$ref as string).replace('#/components/schemas/', '')]!;
  }
  return s;
}

const isNull = (s: Json) =>
  s.type === 'null' || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null');

/** Every non-null shape a (sub)schema may take, through $ref, allOf, anyOf and oneOf. */
function shapes(schema: Json): Json[] {
  const s = deref(schema);
  const branches = [...((s.anyOf as Json[]) ?? []), ...((s.oneOf as Json[]) ?? [])];
  const all = (s.allOf as Json[]) ?? [];
  if (branches.length) return branches.flatMap(shapes).filter((b) => !isNull(b));
  if (all.length) return [s, ...all.flatMap(shapes)];
  return isNull(s) ? [] : [s];
}

interface Step {
  name: string;
  array: boolean;
}
/** A field path the zod schema reads, and whether every step is required there. */
interface ReadPath {
  steps: Step[];
  required: boolean;
}

/** Walk a JSON Schema made from a zod schema; `[]` marks an array element. */
function readPaths(schema: Json, prefix: Step[] = [], required = true): ReadPath[] {
  const options = ((schema.anyOf as Json[]) ?? [schema]).filter((o) => !isNull(o));
  const nullable =
    options.length < ((schema.anyOf as Json[]) ?? [schema]).length ||
    (Array.isArray(schema.type) && schema.type.includes('null'));
  const out: ReadPath[] = [];
  for (const option of options) {
    if (option.type === 'array' && option.items) {
      const last = prefix.at(-1);
      if (last) last.array = true;
      out.push(...readPaths(option.items as Json, prefix, required && !nullable));
      continue;
    }
    const props = option.properties as Record<string, Json> | undefined;
    if (!props) continue;
    const req = new Set((option.required as string[]) ?? []);
    for (const [name, sub] of Object.entries(props)) {
      const steps = [...prefix.map((s) => ({ ...s })), { name, array: false }];
      const subNullable = Array.isArray(sub.type) ? sub.type.includes('null') : false;
      const here = required && !nullable && req.has(name) && !subNullable;
      out.push({ steps, required: here });
      out.push(...readPaths(sub, steps, here));
    }
  }
  // Array marks were set on shared step objects: keep only full paths, deduplicated.
  const seen = new Set<string>();
  return out.filter((p) => {
    const key = label(p.steps);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const label = (steps: Step[]) => steps.map((s) => `${s.name}${s.array ? '[]' : ''}`).join('.');

/**
 * Does `steps` exist in `schema`? When `required`, also: GitHub requires each step and never
 * sends null there. Answers the first problem, or undefined.
 */
function find(schema: Json, steps: Step[], required: boolean): string | undefined {
  if (steps.length === 0) return undefined;
  const [step, ...rest] = steps as [Step, ...Step[]];
  const owners = shapes(schema).filter((s) => (s.properties as Json | undefined)?.[step.name]);
  if (owners.length === 0) return `no ${step.name}`;
  const problems: string[] = [];
  for (const owner of owners) {
    const sub = deref((owner.properties as Record<string, Json>)[step.name]!);
    if (required) {
      const req = shapes(schema).some((s) => ((s.required as string[]) ?? []).includes(step.name));
      if (!req) return `${step.name} is optional in GitHub's schema`;
      if (isTopNullable(sub)) {
        return `${step.name} may be null in GitHub's schema`;
      }
    }
    let next = sub;
    if (step.array) {
      const arrays = shapes(sub).filter(
        (s) => s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array')),
      );
      if (arrays.length === 0) return `${step.name} is not an array`;
      next = arrays[0]!.items as Json;
    }
    const problem = find(next, rest, required);
    if (!problem) return undefined;
    problems.push(problem);
  }
  return `${step.name}.${problems[0]}`;
}

function isTopNullable(schema: Json): boolean {
  const s = deref(schema);
  if (Array.isArray(s.type)) return s.type.includes('null');
  const branches = [...((s.anyOf as Json[]) ?? []), ...((s.oneOf as Json[]) ?? [])];
  return branches.some((b) => isNull(deref(b)));
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;

/**
 * Fields we require although GitHub's schema marks them optional: without them a protection
 * request cannot be answered (no URL, no token, no environment name for the review body). Every
 * documented example carries them (docs "Webhook events and payloads", deployment_protection_rule;
 * `@octokit/webhooks-examples`). A signed delivery without them fails to parse and is handled by
 * the ingest's rule for verified deliveries that cannot be understood.
 */
const REQUIRED_BY_US = new Set([
  'deployment_protection_rule.requested: environment',
  'deployment_protection_rule.requested: deployment_callback_url',
  'deployment_protection_rule.requested: installation',
  'deployment_protection_rule.requested: installation.id',
]);

/** Each zod schema with the events (every action) it parses. */
const cases: [string, z.ZodType, string[]][] = [
  [
    'DeploymentProtectionRulePayload',
    DeploymentProtectionRulePayload,
    ['deployment_protection_rule'],
  ],
  ['DeploymentStatusPayload', DeploymentStatusPayload, ['deployment_status']],
  ['WorkflowRunPayload', WorkflowRunPayload, ['workflow_run']],
  ['WorkflowJobPayload', WorkflowJobPayload, ['workflow_job']],
  ['CheckSuitePayload', CheckSuitePayload, ['check_suite']],
  [
    'RepositoryPayload',
    RepositoryPayload,
    ['deployment_protection_rule', 'deployment_status', 'workflow_run'],
  ],
];

describe(`zod payload schemas against ${PACKAGE}@${version}`, () => {
  it.each(cases)('%s reads only fields GitHub sends for every action', (_, schema, events) => {
    const paths = readPaths(jsonSchema(schema));
    expect(paths.length).toBeGreaterThan(0);
    const hooks = webhooks.filter((w) => events.includes(w.event));
    expect(new Set(hooks.map((h) => h.event))).toEqual(new Set(events));
    const problems = hooks.flatMap((hook) =>
      paths.flatMap((p) => {
        const where = `${hook.event}.${hook.action}: ${label(p.steps)}`;
        const problem = find(hook.schema, p.steps, p.required && !REQUIRED_BY_US.has(where));
        return problem ? [`${where}: ${problem}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('OwnerPayload: wherever GitHub sends repository, organization, installation or sender, it has the field read', () => {
    const paths = readPaths(jsonSchema(OwnerPayload)).filter((p) => p.steps.length === 2);
    expect(paths.map((p) => label(p.steps)).sort()).toEqual([
      'installation.id',
      'organization.login',
      'repository.full_name',
      'sender.login',
    ]);
    const problems: string[] = [];
    for (const hook of webhooks) {
      for (const p of paths) {
        const top = p.steps[0]!.name;
        if (!shapes(hook.schema).some((s) => (s.properties as Json | undefined)?.[top])) continue;
        const problem = find(hook.schema, p.steps, false);
        if (problem) problems.push(`${hook.event}.${hook.action}: ${label(p.steps)}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('lists only exceptions that are still needed', () => {
    const hook = webhooks.find((w) => w.event === 'deployment_protection_rule')!;
    for (const where of REQUIRED_BY_US) {
      const path = where
        .split(': ')[1]!
        .split('.')
        .map((name) => ({ name, array: false }));
      expect(find(hook.schema, path, true), where).toMatch(/optional/);
      expect(find(hook.schema, path, false), where).toBeUndefined();
    }
  });

  it('finds a field that does not exist (the check can fail)', () => {
    const hook = webhooks.find((w) => w.event === 'deployment_protection_rule')!;
    expect(find(hook.schema, [{ name: 'head_commit', array: false }], false)).toBe(
      'no head_commit',
    );
    const status = webhooks.find((w) => w.event === 'deployment_status')!;
    const headCommit = [
      { name: 'workflow_run', array: false },
      { name: 'head_commit', array: false },
      { name: 'message', array: false },
    ];
    expect(find(status.schema, headCommit, false)).toMatch(/no message/);
  });
});

/** The `docs/github.md` table row of `event`, its backticked paths with `a.{b,c}` expanded. */
function documented(event: string): Set<string> {
  const doc = readFileSync(new URL('../../../../../docs/github.md', import.meta.url), 'utf8');
  const row = doc.split('\n').find((l) => l.startsWith(`| \`${event}\``));
  if (!row) throw new Error(`docs/github.md has no row for ${event}`);
  const cell = row.split('|')[2]!;
  const paths = [...cell.matchAll(/`([^`]+)`/g)].flatMap(([, p]) => {
    const m = /^(.*)\{(.*)\}$/.exec(p!);
    return m ? m[2]!.split(',').map((leaf) => `${m[1]}${leaf}`) : [p!];
  });
  return new Set(paths);
}

/** Paths that are leaves (no other read path continues them), without the common `action`. */
function leaves(schema: z.ZodType): Set<string> {
  const all = readPaths(jsonSchema(schema)).map((p) => label(p.steps));
  return new Set(all.filter((p) => p !== 'action' && !all.some((q) => q.startsWith(`${p}.`))));
}

describe('docs/github.md names exactly the fields read', () => {
  it.each([
    ['deployment_protection_rule', DeploymentProtectionRulePayload],
    ['deployment_status', DeploymentStatusPayload],
    ['workflow_run', WorkflowRunPayload],
  ] as const)('%s', (event, schema) => {
    expect(documented(event)).toEqual(leaves(schema));
  });
});
