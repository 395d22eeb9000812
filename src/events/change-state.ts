/**
 * The `change_request.state` values of ServiceNow's change model (the integer choices of the
 * base State field: New -5 … Closed 3, Canceled 4; Change Management API docs). One table for the
 * gate's rules, the ServiceNow client's lifecycle and the status page.
 *
 * @module
 */
export const CHANGE_STATE = {
  new: '-5',
  assess: '-4',
  authorize: '-3',
  scheduled: '-2',
  implement: '-1',
  review: '0',
  closed: '3',
  canceled: '4',
} as const;
