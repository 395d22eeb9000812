import { createPaint, visibleLength, type Paint } from './paint.js';

/** Writes the story: numbered chapters and lines stamped with ms since the demo started. */
export interface Narrator {
  paint: Paint;
  /** ms since start for a `performance.now()` value (default: now). */
  elapsed(at?: number): number;
  chapter(title: string): void;
  /** A line of the timeline; `at` is when it happened (`performance.now()`), default now. */
  say(text: string, at?: number): void;
  /** An indented detail line without a timestamp. */
  detail(text: string): void;
  table(header: string[], rows: string[][]): void;
  blank(): void;
}

export interface NarratorOptions {
  write: (text: string) => void;
  colour: boolean;
  /** `performance.now()` of the start. */
  start: number;
}

const STAMP_WIDTH = 8;

/** @example const n = createNarrator({ write: (t) => process.stdout.write(t), colour: false, start: performance.now() }) */
export function createNarrator({ write, colour, start }: NarratorOptions): Narrator {
  const paint = createPaint(colour);
  let chapters = 0;
  const elapsed = (at = performance.now()) => Math.max(0, Math.round(at - start));
  const stamp = (at?: number) => paint.dim(`${String(elapsed(at)).padStart(STAMP_WIDTH - 3)} ms`);
  const line = (text: string) => write(`${text}\n`);
  return {
    paint,
    elapsed,
    chapter(title) {
      chapters += 1;
      line('');
      line(paint.bold(paint.cyan(`${chapters}. ${title}`)));
    },
    say: (text, at) => line(`${stamp(at)}  ${text}`),
    detail: (text) => line(`${' '.repeat(STAMP_WIDTH + 2)}${text}`),
    blank: () => line(''),
    table(header, rows) {
      const widths = header.map((h, i) =>
        Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
      );
      const render = (cells: string[]) =>
        cells
          .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(c))))
          .join('  ')
          .trimEnd();
      line(`  ${paint.bold(render(header))}`);
      line(`  ${paint.dim(widths.map((w) => '─'.repeat(w)).join('  '))}`);
      for (const r of rows) line(`  ${render(r)}`);
    },
  };
}
