import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLError, type ErrorCode } from 'yaml';
import { ConfigError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { servicenowFromEnv } from './servicenow.js';

export type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /** YAML file; when absent, `CHANGEGATE_CONFIG` is tried, then env-only defaults. */
  path?: string | undefined;
  env: Env;
  /** Applied last, e.g. `--port` and `--embedded` from the command line. */
  overrides?: (raw: Record<string, unknown>) => void;
}

/**
 * Load, interpolate and validate the configuration.
 * @throws ConfigError naming every bad key.
 * @example loadConfig({ path: 'changegate.yaml', env: process.env })
 */
export function loadConfig({ path, env, overrides }: LoadConfigOptions): Config {
  const file = path ?? env.CHANGEGATE_CONFIG;
  const raw = file ? readYaml(file, env) : fromEnv(env);
  overrides?.(raw);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      file ?? 'environment',
    );
  }
  return parsed.data;
}

function readYaml(file: string, env: Env): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as Error).message}`], file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([yamlProblem(err)], file);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(['(root): must be a mapping'], file);
  }
  const missing: string[] = [];
  const out = interpolate(doc, env, [], missing) as Record<string, unknown>;
  if (missing.length > 0) throw new ConfigError(missing, file);
  return out;
}

/**
 * A YAML syntax error as `line L, column C: <what>`. The parser's own message quotes the
 * offending line, and in a config file that line may be a secret, so only the position and
 * the kind of error are shown.
 */
function yamlProblem(err: unknown): string {
  if (err instanceof YAMLError) {
    const at = err.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : `offset ${err.pos[0]}`;
    return `not valid YAML at ${where}: ${YAML_PROBLEMS[err.code] ?? 'syntax error'}`;
  }
  return 'not valid YAML';
}

/** Plain words for the parser's error codes (eemeli/yaml src/errors.ts ErrorCode). */
const YAML_PROBLEMS: Record<ErrorCode, string> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or tag',
  BAD_ALIAS: 'bad alias',
  BAD_DIRECTIVE: 'bad directive',
  BAD_DQ_ESCAPE: 'bad escape in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor and tag in the wrong order',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote it)',
  BLOCK_AS_IMPLICIT_KEY: 'a block cannot be a key',
  BLOCK_IN_FLOW: 'a block inside a flow collection',
  DUPLICATE_KEY: 'duplicate key',
  IMPOSSIBLE: 'unexpected parser state',
  KEY_OVER_1024_CHARS: 'key longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (unclosed quote or bracket?)',
  MULTILINE_IMPLICIT_KEY: 'a key cannot span lines',
  MULTIPLE_ANCHORS: 'several anchors on one node',
  MULTIPLE_DOCS: 'several documents in one file',
  MULTIPLE_TAGS: 'several tags on one node',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many alias expansions',
  BAD_COLLECTION_TYPE: 'wrong collection type for its tag',
  TAB_AS_INDENT: 'tab used for indentation',
  TAG_RESOLVE_FAILED: 'unknown tag',
  UNEXPECTED_TOKEN: 'unexpected token (a key: value on a line where it cannot be?)',
};

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * `${NAME}` and `${NAME:-default}` in string values. Done after YAML parsing so a secret that
 * contains YAML syntax cannot change the document's structure.
 */
function interpolate(node: unknown, env: Env, path: string[], missing: string[]): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/.exec(node);
    const resolve = (name: string, fallback: string | undefined): string => {
      const value = env[name] ?? fallback;
      if (value === undefined) {
        missing.push(`${path.join('.')}: environment variable ${name} is not set`);
        return '';
      }
      return value;
    };
    // A value that is exactly one variable may become a number or boolean (e.g. a port).
    if (whole) return coerceScalar(resolve(whole[1]!, whole[2]));
    return node.replace(VAR, (_, name: string, fallback: string | undefined) =>
      resolve(name, fallback),
    );
  }
  if (Array.isArray(node))
    return node.map((v, i) => interpolate(v, env, [...path, String(i)], missing));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, interpolate(v, env, [...path, k], missing)]),
    );
  }
  return node;
}

function coerceScalar(value: string): unknown {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

const list = (v: string | undefined) =>
  v === undefined || v === ''
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** With no file: defaults plus the documented env variables, so one line starts changegate. */
function fromEnv(env: Env): Record<string, unknown> {
  const sources: Record<string, unknown> = { generic: {} };
  const github = list(env.CHANGEGATE_GITHUB_SECRET);
  if (github) sources.github = { secrets: github };
  const gitlab = list(env.CHANGEGATE_GITLAB_TOKEN);
  const gitlabSigning = list(env.CHANGEGATE_GITLAB_SIGNING_TOKEN);
  if (gitlab || gitlabSigning) {
    sources.gitlab = {
      ...(gitlab ? { tokens: gitlab } : {}),
      ...(gitlabSigning ? { signingTokens: gitlabSigning } : {}),
    };
  }
  const jenkins = list(env.CHANGEGATE_JENKINS_SECRET);
  if (jenkins) sources.jenkins = { secrets: jenkins };
  const generic = list(env.CHANGEGATE_GENERIC_SECRET);
  if (generic) sources.generic = { '*': { secrets: generic } };
  const servicenow = list(env.CHANGEGATE_SERVICENOW_SECRET);
  if (servicenow) sources.servicenow = { secrets: servicenow };
  const azure = list(env.CHANGEGATE_AZURE_DEVOPS_BASIC);
  if (azure) sources.azureDevops = { basic: azure };

  const brokers = list(env.KAFKA_BROKERS);
  const servicenowConnections = servicenowFromEnv(env);
  return {
    server: { ...(env.PORT ? { port: Number(env.PORT) } : {}) },
    sources,
    kafka: { ...(brokers ? { brokers } : {}) },
    ...(servicenowConnections ? { servicenow: servicenowConnections } : {}),
    ...(env.LOG_LEVEL ? { log: { level: env.LOG_LEVEL } } : {}),
    security: {
      ...(env.CHANGEGATE_ENCRYPTION_KEY ? { encryptionKey: env.CHANGEGATE_ENCRYPTION_KEY } : {}),
    },
    audit: { ...(env.CHANGEGATE_AUDIT_KEY ? { key: env.CHANGEGATE_AUDIT_KEY } : {}) },
  };
}
