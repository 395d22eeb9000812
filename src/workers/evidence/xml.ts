/**
 * Just enough XML for test reports: a tag scanner that skips comments, CDATA, processing
 * instructions and DOCTYPE, and decodes attribute entities. No DTDs, no entity expansion beyond
 * the five predefined ones and character references, so a hostile report cannot blow up (no
 * "billion laughs"). Tolerant by design: a document cut short yields the tags seen so far.
 *
 * @module
 */

export interface XmlTag {
  /** Local name without a namespace prefix, e.g. `testcase`. */
  name: string;
  kind: 'open' | 'close' | 'self';
  attrs: Record<string, string>;
  /** Offsets of the tag in the source: `start` at `<`, `end` after `>`. */
  start: number;
  end: number;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decode the predefined entities and numeric character references; leave others as they are. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

const ATTR = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseAttrs(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(ATTR)) {
    const name = (m[1] ?? '').replace(/^.*:/, '');
    attrs[name] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return attrs;
}

/** Where a construct that is not a tag ends, or -1 when `at` starts a tag. */
function skipSpecial(xml: string, at: number): number {
  for (const [open, close] of [
    ['<!--', '-->'],
    ['<![CDATA[', ']]>'],
    ['<?', '?>'],
  ] as const) {
    if (!xml.startsWith(open, at)) continue;
    const end = xml.indexOf(close, at + open.length);
    return end < 0 ? xml.length : end + close.length;
  }
  if (xml.startsWith('<!', at)) {
    // DOCTYPE (possibly with an internal subset in brackets): skipped, never interpreted.
    const bracket = xml.indexOf('[', at);
    const gt = xml.indexOf('>', at);
    if (bracket >= 0 && gt >= 0 && bracket < gt) {
      const endSubset = xml.indexOf(']>', bracket);
      return endSubset < 0 ? xml.length : endSubset + 2;
    }
    return gt < 0 ? xml.length : gt + 1;
  }
  return -1;
}

/** Every element tag of `xml`, in document order. */
export function* scanTags(xml: string): Generator<XmlTag> {
  let at = xml.indexOf('<');
  while (at >= 0 && at < xml.length) {
    const special = skipSpecial(xml, at);
    if (special >= 0) {
      at = xml.indexOf('<', special);
      continue;
    }
    // A `>` inside a quoted attribute value does not end the tag.
    const m = /^<(\/?)([A-Za-z_][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/.exec(
      xml.slice(at, at + 64 * 1024),
    );
    if (!m) {
      at = xml.indexOf('<', at + 1);
      continue;
    }
    const end = at + m[0].length;
    const name = (m[2] ?? '').replace(/^.*:/, '');
    const kind = m[1] ? 'close' : m[4] ? 'self' : 'open';
    yield { name, kind, attrs: kind === 'close' ? {} : parseAttrs(m[3] ?? ''), start: at, end };
    at = xml.indexOf('<', end);
  }
}

/** Text between two offsets with CDATA unwrapped, comments removed and entities decoded. */
export function textBetween(xml: string, from: number, to: number): string {
  const raw = xml.slice(from, to);
  let out = '';
  let at = 0;
  for (;;) {
    const cdata = raw.indexOf('<![CDATA[', at);
    const chunk = raw.slice(at, cdata < 0 ? raw.length : cdata);
    out += decodeEntities(chunk.replace(/<!--[\s\S]*?-->/g, '').replace(/<[^>]*>/g, ''));
    if (cdata < 0) return out;
    const close = raw.indexOf(']]>', cdata + 9);
    out += raw.slice(cdata + 9, close < 0 ? raw.length : close);
    if (close < 0) return out;
    at = close + 3;
  }
}
