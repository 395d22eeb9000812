export {
  startStatusPage,
  statusPageMode,
  STATUS_PATH,
  type StatusPage,
} from './start-status-page.js';
export { startBusStatusSource } from './bus-status-source.js';
export { createStatusRoutes, type ChangeActions } from './routes.js';
export { StatusStore } from './status-store.js';
export type * from './status-source.js';
