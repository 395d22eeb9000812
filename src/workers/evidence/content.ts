/**
 * What an attachment is called, what type it has, and how it is cut to the size cap.
 *
 * @module
 */

export type ReportFormat = 'junit' | 'sarif' | 'log' | 'other';

/** MIME type per format; `other` keeps what the sender said, else octet-stream. */
export function contentTypeOf(format: ReportFormat, given?: string): string {
  if (format === 'junit') return 'application/xml';
  // The SARIF 2.1.0 spec (§3.1) registers application/sarif+json.
  if (format === 'sarif') return 'application/sarif+json';
  if (format === 'log') return 'text/plain';
  return given && /^[\w.+-]+\/[\w.+-]+/.test(given) ? given : 'application/octet-stream';
}

/**
 * A file name ServiceNow accepts and a reader recognises: the last path segment, with
 * control, path and shell-hostile characters replaced.
 */
export function safeFileName(name: string, format: ReportFormat): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[^\w.\- ()+@]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 200);
  if (cleaned) return cleaned;
  return format === 'junit' ? 'junit.xml' : format === 'sarif' ? 'results.sarif' : 'report.log';
}

export interface Capped {
  bytes: Uint8Array;
  truncated: boolean;
  /** Size of the report before the cut (may be a lower bound when the download was cut). */
  originalBytes: number;
}

/** The line appended to a cut file, so a reader of the attachment knows it is partial. */
export function truncationNote(originalBytes: number, keptBytes: number, atLeast: boolean): string {
  return `\n\n[changegate: truncated: the report has ${atLeast ? 'at least ' : ''}${originalBytes} bytes; the first ${keptBytes} are attached]\n`;
}

/** Back off to the start of a UTF-8 sequence, so the cut never splits a character. */
function utf8Boundary(bytes: Uint8Array, at: number): number {
  let i = at;
  while (i > 0 && i < bytes.length && ((bytes[i] ?? 0) & 0xc0) === 0x80) i--;
  return i;
}

/**
 * Cut `bytes` to at most `maxBytes`, note included. `cutBefore` says the input is itself the
 * head of something larger (a download stopped at its own cap).
 */
export function capBytes(
  bytes: Uint8Array,
  maxBytes: number,
  cutBefore = false,
  originalBytes = bytes.length,
): Capped {
  if (bytes.length <= maxBytes && !cutBefore) {
    return { bytes, truncated: false, originalBytes };
  }
  // The note's length depends on the kept size; size it with the largest kept value.
  const noteSize = Buffer.byteLength(truncationNote(originalBytes, maxBytes, cutBefore));
  const keep = utf8Boundary(bytes, Math.min(bytes.length, Math.max(0, maxBytes - noteSize)));
  const note = Buffer.from(truncationNote(originalBytes, keep, cutBefore));
  const out = new Uint8Array(keep + note.length);
  out.set(bytes.subarray(0, keep), 0);
  out.set(note, keep);
  return { bytes: out, truncated: true, originalBytes };
}

/** `12.3 KiB`, for humans reading the work note. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
