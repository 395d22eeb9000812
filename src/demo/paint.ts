/** ANSI styles, or plain text when colour is off. */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const style =
  (on: boolean, open: number, close: number) =>
  (text: string): string =>
    on ? `\u001b[${open}m${text}\u001b[${close}m` : text;

/** Colours only where a person reads them: a TTY, unless `NO_COLOR` is set (https://no-color.org). */
export function colourWanted(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** @example createPaint(true).green('ok') // '\u001b[32mok\u001b[39m' */
export function createPaint(on: boolean): Paint {
  return {
    bold: style(on, 1, 22),
    dim: style(on, 2, 22),
    green: style(on, 32, 39),
    red: style(on, 31, 39),
    yellow: style(on, 33, 39),
    cyan: style(on, 36, 39),
  };
}

// Built from a string: a regex literal with an escape character trips no-control-regex.
const ANSI = new RegExp(`${'\u001b'}\\[[0-9;]*m`, 'g');

/** Visible width of a string that may hold ANSI styles. */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}
