/**
 * The demo's one error: a step of the story did not happen (wrong HTTP answer, or an outcome that
 * did not arrive in time). Its message names the step and what was expected, so a newcomer sees
 * where the chain broke instead of a stack.
 */
export class DemoError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`[changegate/demo] ${message}`, options);
    this.name = 'DemoError';
  }
}
