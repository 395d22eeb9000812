/**
 * The state kit: partition-aware stateful processing on the bus (processor.ts), its task
 * registry and fencing decision (tasks.ts) and its changelog format (changelog.ts).
 *
 * @module
 */

export {
  createStatefulProcessor,
  FencedError,
  type Outcome,
  type StatefulProcessor,
  type StatefulProcessorOptions,
  type TaskContext,
} from './processor.js';
export { mayWrite, type Task, type TaskRegistry, type WriteDecision } from './tasks.js';
export { routeEvents, type KeyedContext, type StatefulRouter } from './events.js';
