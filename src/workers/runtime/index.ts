/**
 * The worker runtime: per-event-type handlers (router.ts), the one retry and poison rule
 * (attempts.ts), the dead-letter record (dead-letter.ts) and the consumer loop of stateless
 * workers (worker.ts). Stateful workers run on the state kit (../stateful), which uses the same
 * rule and dead letters.
 *
 * @module
 */

export * from './attempts.js';
export * from './dead-letter.js';
export * from '../../events/dead-letter.js';
export * from './router.js';
export * from './worker.js';
