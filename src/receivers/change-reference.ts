/** Receivers and the change worker read change references the same way: one definition in events/. */
export { findChangeNumber } from '../events/change-reference.js';
