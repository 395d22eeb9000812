import { createRequire } from 'node:module';
import Ajv from 'ajv';

/**
 * GitHub's own REST description (`@octokit/openapi`, generated from github/rest-api-description)
 * as the judge of a request: which operation a method + URL is, whether the JSON body fits the
 * operation's request schema, and whether the answer's status (and body) is one the operation
 * documents. A test records what a client sent and what it was answered, then asks here.
 *
 * The validator is Ajv 6 (present through eslint; draft-07, with OpenAPI 3.0's `nullable`).
 */

const require = createRequire(import.meta.url);
const SPEC_FILE = '@octokit/openapi/generated/api.github.com.json';

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: object; $ref?: string }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

type Parameter = NonNullable<Operation['parameters']>[number];

interface Spec {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter> };
}

export interface RecordedExchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  status: number;
  responseText: string;
}

/**
 * Statuses any GitHub REST endpoint may answer although an operation does not list them, each
 * from a GitHub docs page: 401 "Bad credentials" and 403/429 rate limits
 * (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api,
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
 */
export const ANY_ENDPOINT_STATUSES = [401, 403, 429] as const;

/**
 * Statuses an operation answers although its description lists none. review-custom-gates-for-run
 * documents only 204, but GitHub's API handler of that operation (`Api::DeploymentRequests`, a
 * public copy found in the code search; its repository is not named) answers 422 "No pending
 * custom deployment requests in workflow run `ID` to approve or reject" when nothing is pending,
 * and 422 for a body that fails its schema (`receive_with_openapi`).
 */
export const UNDOCUMENTED_STATUSES: Record<string, readonly number[]> = {
  'actions/review-custom-gates-for-run': [422],
};

const spec = require(SPEC_FILE) as Spec;
const specVersion = (require('@octokit/openapi/package.json') as { version: string }).version;

const ajv = new Ajv({
  nullable: true,
  unknownFormats: 'ignore',
  validateSchema: false,
  allErrors: true,
  schemaId: 'auto',
  logger: false,
});
ajv.addSchema(nullableComposites(structuredClone(spec)) as object, 'github');

/**
 * OpenAPI 3.0's `nullable: true` beside `oneOf`/`anyOf`/`allOf` and no `type` (GitHub's
 * `commit.author`: a `simple-user`, an empty object, or null) means null is allowed too, but
 * Ajv's `nullable` option honours it only next to `type`: such a schema becomes
 * `anyOf: [{ type: 'null' }, <the schema>]`, so a documented null answer validates.
 */
function nullableComposites(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableComposites);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = nullableComposites(v);
  if (out.nullable === true && out.type === undefined && (out.oneOf || out.anyOf || out.allOf)) {
    const { nullable: _, ...rest } = out;
    return { anyOf: [{ type: 'null' }, rest] };
  }
  return out;
}

const pointer = (...parts: string[]) =>
  'github#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const templates = Object.keys(spec.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  // Literal segments win over parameters (`/app/hook/deliveries` vs `/app/hook/{x}`).
  params: (template.match(/\{/g) ?? []).length,
}));

export const githubOpenapi = {
  file: SPEC_FILE,
  version: specVersion,
  apiVersion: spec.info.version,
};

export interface Verdict {
  operationId: string;
  template: string;
  problems: string[];
}

/** The operation a request is, or undefined when GitHub documents no such method + path. */
export function operationOf(method: string, pathname: string) {
  const found = templates
    .filter((t) => t.pattern.test(pathname) && spec.paths[t.template]![method.toLowerCase()])
    .sort((a, b) => a.params - b.params)[0];
  return found
    ? { template: found.template, op: spec.paths[found.template]![method.toLowerCase()]! }
    : undefined;
}

const compiled = new Map<string, Ajv.ValidateFunction>();

function check(ref: string, value: unknown): string[] {
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.dataPath || '(root)'} ${e.message ?? ''}`);
}

/**
 * Judge one recorded exchange against GitHub's description.
 * @param apiBase the client's `apiUrl` (GHES has `/api/v3` in front of every path).
 */
export function judge(x: RecordedExchange, apiBase: string): Verdict {
  const url = new URL(x.url);
  const base = new URL(apiBase).pathname.replace(/\/+$/, '');
  const path = url.pathname.startsWith(base) ? url.pathname.slice(base.length) : url.pathname;
  const found = operationOf(x.method, path);
  if (!found)
    return { operationId: '(none)', template: path, problems: [`no ${x.method} ${path}`] };
  const { template, op } = found;
  const problems: string[] = [];
  const method = x.method.toLowerCase();
  const parameters = (op.parameters ?? []).map((p) =>
    p.$ref ? spec.components.parameters[p.$ref.replace('#/components/parameters/', '')]! : p,
  );

  for (const name of url.searchParams.keys()) {
    const param = parameters.find((p) => p.in === 'query' && p.name === name);
    if (!param) problems.push(`query parameter ${name} is not documented`);
  }
  for (const p of parameters) {
    if (p.in === 'query' && p.required && !url.searchParams.has(p.name)) {
      problems.push(`query parameter ${p.name} is required`);
    }
  }

  const json = op.requestBody?.content['application/json'];
  if (x.body !== undefined && x.body !== '') {
    if (!json) problems.push('a body was sent but the operation takes none');
    else {
      let body: unknown;
      try {
        body = JSON.parse(x.body);
      } catch {
        problems.push('the body is not JSON');
      }
      if (body !== undefined) {
        problems.push(
          ...check(
            pointer(
              'paths',
              template,
              method,
              'requestBody',
              'content',
              'application/json',
              'schema',
            ),
            body,
          ).map((p) => `request ${p}`),
        );
      }
      if (!/json/.test(x.headers['content-type'] ?? ''))
        problems.push('body without a JSON content-type');
    }
  } else if (op.requestBody?.required) {
    problems.push('the operation requires a body');
  }

  const documented = Object.keys(op.responses).map(Number);
  const allowed = [
    ...documented,
    ...ANY_ENDPOINT_STATUSES,
    ...(UNDOCUMENTED_STATUSES[op.operationId] ?? []),
  ];
  if (!allowed.includes(x.status)) {
    problems.push(`status ${x.status} is not documented (documented: ${documented.join(', ')})`);
  }
  const answer = op.responses[String(x.status)]?.content?.['application/json'];
  if (answer && x.responseText) {
    problems.push(
      ...check(
        pointer(
          'paths',
          template,
          method,
          'responses',
          String(x.status),
          'content',
          'application/json',
          'schema',
        ),
        JSON.parse(x.responseText),
      ).map((p) => `response ${x.status} ${p}`),
    );
  }
  return { operationId: op.operationId, template, problems };
}

/** A fetch that records every exchange (request and answer) and passes it on unchanged. */
export function recordingFetch(inner: typeof fetch = fetch) {
  const exchanges: RecordedExchange[] = [];
  const impl: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
    const res = await inner(input, init);
    const responseText = await res.clone().text();
    exchanges.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
      status: res.status,
      responseText,
    });
    return res;
  };
  return { impl, exchanges };
}

type Json = { [key: string]: unknown };

function resolve(schema: Json): Json {
  let s = schema;
  for (let i = 0; typeof s.$ref === 'string' && i < 20; i++) {
    const parts = (s.$ref as string).replace(/^#\//, '').split('/');
    s = parts.reduce<Json>((at, part) => at[part] as Json, spec as unknown as Json);
  }
  return s;
}

/** Every shape a (sub)schema may take, through $ref, allOf, anyOf and oneOf. */
function shapesOf(schema: Json): Json[] {
  const s = resolve(schema);
  const branches = [...((s.anyOf as Json[]) ?? []), ...((s.oneOf as Json[]) ?? [])];
  if (branches.length) return branches.flatMap(shapesOf);
  return [s, ...((s.allOf as Json[]) ?? []).flatMap(shapesOf)];
}

/**
 * The field paths a client reads of an operation's JSON answer that GitHub's description does
 * not have (`commit.author.login` → "commit.author.login: no login"), through $ref, allOf,
 * anyOf and oneOf: a path that fails is a field the client waits for in vain.
 */
export function responsePathProblems(
  operationId: string,
  status: number,
  paths: readonly string[],
): string[] {
  const op = Object.values(spec.paths)
    .flatMap((methods) => Object.values(methods))
    .find((o) => o.operationId === operationId);
  const root = op?.responses[String(status)]?.content?.['application/json']?.schema as
    Json | undefined;
  if (!root) return [`${operationId} documents no JSON answer ${status}`];
  return paths.flatMap((path) => {
    let at: Json[] = [root];
    for (const name of path.split('.')) {
      at = at.flatMap(shapesOf).flatMap((s) => {
        const sub = (s.properties as Record<string, Json> | undefined)?.[name];
        return sub ? [sub] : [];
      });
      if (at.length === 0) return [`${path}: no ${name}`];
    }
    return [];
  });
}
