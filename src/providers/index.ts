import { azureDevops } from './azure-devops/index.js';
import { generic } from './generic/index.js';
import { github } from './github/index.js';
import { gitlab } from './gitlab/index.js';
import { jenkins } from './jenkins/index.js';
import { servicenow } from './servicenow/index.js';

/**
 * Every provider production knows, in route and config-key order. The receiver routes
 * (`src/receivers/registry.ts`), the `sources:` and `ci:` config sections, the callback clients
 * (`src/ci/index.ts`) and the gate time limits are all built from this list; adding a provider
 * is its folder plus one line here (see README.md). Emulators register apart, in
 * `src/sandbox/ci/index.ts`, so production never loads them.
 *
 * @module
 */
export const PROVIDERS = [github, gitlab, jenkins, azureDevops, generic, servicenow] as const;

export type { Provider, CallbackContext, CallbackParts, GateLimit } from './types.js';
