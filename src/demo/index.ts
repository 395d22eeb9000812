/**
 * `changegate demo`: the whole product in one process, telling the story of gated deployments.
 *
 * @module
 */
export { registerDemoCommand } from './command.js';
export { runDemo, type DemoOptions, type DemoResult } from './story.js';
export { startDemoStack, type DemoStack, type DemoStackOptions } from './stack.js';
export { releaseFigures, type ReleaseFigures } from './release-figures.js';
export { DemoError } from './errors.js';
