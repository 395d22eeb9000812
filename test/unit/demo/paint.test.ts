import { describe, expect, it } from 'vitest';
import { createNarrator } from '../../../src/demo/narrator.js';
import { colourWanted, createPaint, visibleLength } from '../../../src/demo/paint.js';

describe('demo colours', () => {
  it('colours a TTY and nothing else, and honours NO_COLOR and FORCE_COLOR', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({}, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourWanted({ isTTY: false }, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('writes plain text when colour is off and measures styled text by what is visible', () => {
    expect(createPaint(false).green('ok')).toBe('ok');
    const styled = createPaint(true).bold(createPaint(true).green('released'));
    expect(styled).not.toBe('released');
    expect(visibleLength(styled)).toBe('released'.length);
  });

  it('aligns table columns the same with and without colour', () => {
    const render = (colour: boolean) => {
      let out = '';
      const n = createNarrator({ write: (t) => (out += t), colour, start: 0 });
      n.table(
        ['CR', 'gate'],
        [
          [n.paint.bold('CHG0010001'), n.paint.green('released')],
          ['CHG1', '—'],
        ],
      );
      return out.replace(new RegExp(`${'\u001b'}\\[[0-9;]*m`, 'g'), '');
    };
    expect(render(true)).toBe(render(false));
    expect(render(false).split('\n')[3]).toBe('  CHG1        —');
  });
});
