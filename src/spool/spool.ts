import { mkdir, open, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BusUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { decodeFrame, encodeFrame, type SpooledDelivery } from './frame.js';

/**
 * The receiver's local durable spool: deliveries the bus could not acknowledge in time are
 * appended here (fsynced before the sender hears 202) and forwarded to Kafka, in order, once it
 * is writable again (see forwarder.ts).
 *
 * On disk, in one directory per receiver:
 * - `<seq>.seg`: segments of frames (frame.ts), appended only; a new one is started at every
 *   open and when the active one passes `segmentBytes`. Fully forwarded segments are deleted.
 * - `cursor`: `{ seq, offset }` of the first frame not yet forwarded (written by rename, so it
 *   is either the old or the new cursor, never half of one).
 * - `lock`: the pid of the process that owns the directory; two receivers never share one.
 *
 * After a crash the last frame of the last segment may be torn (cut short, or its checksum does
 * not match): `open()` truncates it away, so it is never forwarded. Such a frame was never
 * acknowledged to its sender (the answer comes only after fsync), who delivers it again.
 *
 * @module
 */

export interface SpoolOptions {
  dir: string;
  /** Bytes of segments on disk past which appends are refused (503). */
  maxBytes: number;
  /** A segment larger than this is closed and a new one started. */
  segmentBytes: number;
  log?: Logger;
  clock?: () => number;
}

/** The spool holds `maxBytes`: the sender gets 503 and delivers again later. */
export class SpoolFullError extends BusUnavailableError {
  constructor(message: string) {
    super(message, { retryAfterSeconds: 10 });
  }
}

/** A delivery waiting in the spool, as the forwarder sees it. */
export interface SpoolEntry {
  seq: number;
  offset: number;
  bytes: number;
  keys: string[];
  at: number;
}

/** A waiting delivery read back; `delivery` undefined when its frame was damaged on disk. */
export interface PeekedDelivery {
  entry: SpoolEntry;
  delivery: SpooledDelivery | undefined;
  damage?: string;
}

export interface SpoolStats {
  deliveries: number;
  bytes: number;
  oldestAt: number | undefined;
  segments: number;
}

interface PendingAppend {
  frame: Buffer;
  delivery: SpooledDelivery;
  resolve: () => void;
  reject: (err: Error) => void;
}

const SEGMENT = /^(\d{20})\.seg$/;
export const segmentName = (seq: number) => `${String(seq).padStart(20, '0')}.seg`;
export const CURSOR_FILE = 'cursor';
const LOCK_FILE = 'lock';

export class Spool {
  readonly dir: string;
  readonly #options: SpoolOptions;
  /** Waiting deliveries, oldest first. */
  readonly #entries: SpoolEntry[] = [];
  readonly #keys = new Map<string, number>();
  /** Size on disk of each segment, by sequence number. */
  readonly #segments = new Map<number, number>();
  #active: { seq: number; handle: FileHandle } | undefined;
  #nextSeq: number;
  #queue: PendingAppend[] = [];
  #queuedBytes = 0;
  #writing: Promise<void> | undefined;
  #closed = false;
  readonly #readers = new Map<number, FileHandle>();
  #listeners = new Set<() => void>();

  private constructor(options: SpoolOptions, nextSeq: number) {
    this.dir = options.dir;
    this.#options = options;
    this.#nextSeq = nextSeq;
  }

  /**
   * Take the directory (creating it), drop a torn tail, and index what a previous process left.
   * @throws Error when another live process holds the directory.
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    try {
      await mkdir(options.dir, { recursive: true });
      await takeLock(options.dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw err;
      throw new Error(
        `[changegate/spool] cannot write the spool directory ${options.dir} (${code}): set ingest.spool.dir to a writable, persistent directory (one per receiver), or ingest.spool.enabled: false`,
        { cause: err },
      );
    }
    const scan = await scanSpool(options.dir, { repair: true, log: options.log });
    const spool = new Spool(options, scan.lastSeq + 1);
    for (const [seq, size] of scan.segments) spool.#segments.set(seq, size);
    for (const entry of scan.entries) spool.#index(entry);
    if (scan.torn.length > 0) {
      options.log?.warn(
        { dir: options.dir, torn: scan.torn },
        'spool: dropped a torn frame left by a crash (it was never acknowledged to its sender)',
      );
    }
    if (spool.#entries.length > 0) {
      options.log?.info(
        { dir: options.dir, deliveries: spool.#entries.length, bytes: spool.bytes },
        'spool: deliveries left by a previous process will be forwarded',
      );
    }
    return spool;
  }

  get empty(): boolean {
    return this.#entries.length === 0 && this.#queue.length === 0 && !this.#writing;
  }

  /** Deliveries written and not yet forwarded. */
  get waiting(): number {
    return this.#entries.length;
  }

  /** Bytes of segments on disk (forwarded frames count until their segment is deleted). */
  get bytes(): number {
    let total = 0;
    for (const size of this.#segments.values()) total += size;
    return total;
  }

  /** True when not even a small delivery would fit. */
  get full(): boolean {
    return this.bytes + this.#queuedBytes >= this.#options.maxBytes;
  }

  stats(): SpoolStats {
    return {
      deliveries: this.#entries.length,
      bytes: this.bytes,
      oldestAt: this.#entries[0]?.at,
      segments: this.#segments.size,
    };
  }

  /** Whether a delivery with this dedupe key waits in the spool. */
  holds(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Called after each committed append (the forwarder listens). */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Append one delivery and fsync it; resolves only once it is on disk. Appends that arrive
   * together share one write and one fdatasync (group commit).
   * @throws SpoolFullError when it does not fit in `maxBytes`; BusUnavailableError when the
   *   disk write fails or the spool is closed.
   */
  append(delivery: SpooledDelivery): Promise<void> {
    if (this.#closed) return Promise.reject(new BusUnavailableError('spool is closed'));
    const frame = encodeFrame(delivery);
    if (this.bytes + this.#queuedBytes + frame.length > this.#options.maxBytes) {
      return Promise.reject(
        new SpoolFullError(
          `the bus is unavailable and the spool is full (${this.bytes} of ${this.#options.maxBytes} bytes)`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ frame, delivery, resolve, reject });
      this.#queuedBytes += frame.length;
      this.#startWriter();
    });
  }

  #startWriter(): void {
    if (this.#writing) return;
    this.#writing = this.#writeLoop().finally(() => {
      this.#writing = undefined;
      // An append queued after the loop's last check, before this callback.
      if (this.#queue.length > 0) this.#startWriter();
    });
  }

  async #writeLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const bytes = batch.reduce((n, p) => n + p.frame.length, 0);
      this.#queuedBytes -= bytes;
      try {
        const active = await this.#activeSegment();
        const start = this.#segments.get(active.seq)!;
        try {
          await active.handle.write(Buffer.concat(batch.map((p) => p.frame)), 0, bytes, start);
          await active.handle.datasync();
        } catch (err) {
          // Leave no partial frame behind for the next append to follow.
          await active.handle.truncate(start).catch(() => undefined);
          throw err;
        }
        let offset = start;
        for (const p of batch) {
          this.#index({
            seq: active.seq,
            offset,
            bytes: p.frame.length,
            keys: p.delivery.keys,
            at: p.delivery.at,
          });
          offset += p.frame.length;
        }
        this.#segments.set(active.seq, offset);
        if (offset >= this.#options.segmentBytes) await this.#closeActive();
        for (const p of batch) p.resolve();
        for (const listener of this.#listeners) listener();
      } catch (err) {
        const error = new BusUnavailableError(
          `the bus is unavailable and the spool could not write: ${(err as Error).message}`,
          { cause: err },
        );
        for (const p of batch) p.reject(error);
      }
    }
  }

  async #activeSegment(): Promise<{ seq: number; handle: FileHandle }> {
    if (this.#active) return this.#active;
    const seq = this.#nextSeq++;
    const handle = await open(join(this.dir, segmentName(seq)), 'wx');
    await syncDir(this.dir);
    this.#segments.set(seq, 0);
    this.#active = { seq, handle };
    return this.#active;
  }

  async #closeActive(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    await active?.handle.close();
  }

  #index(entry: SpoolEntry): void {
    this.#entries.push(entry);
    for (const key of entry.keys) this.#keys.set(key, (this.#keys.get(key) ?? 0) + 1);
  }

  /**
   * The oldest waiting deliveries, read back from disk: at most `maxRecords` bus records and
   * `maxBytes` of frames (always at least one delivery). Nothing is removed until {@link ack}.
   */
  async peek(maxRecords: number, maxBytes: number): Promise<PeekedDelivery[]> {
    const out: PeekedDelivery[] = [];
    let records = 0;
    let bytes = 0;
    for (const entry of this.#entries) {
      if (out.length > 0 && bytes + entry.bytes > maxBytes) break;
      const delivery = await this.#read(entry);
      if (typeof delivery === 'string') {
        out.push({ entry, delivery: undefined, damage: delivery });
        continue;
      }
      if (out.length > 0 && records + delivery.records.length > maxRecords) break;
      out.push({ entry, delivery });
      records += delivery.records.length;
      bytes += entry.bytes;
    }
    return out;
  }

  /** The delivery, or what is wrong with its frame when it was damaged on disk since. */
  async #read(entry: SpoolEntry): Promise<SpooledDelivery | string> {
    let handle = this.#readers.get(entry.seq);
    if (!handle) {
      handle = await open(join(this.dir, segmentName(entry.seq)), 'r');
      this.#readers.set(entry.seq, handle);
    }
    const buf = Buffer.alloc(entry.bytes);
    const { bytesRead } = await handle.read(buf, 0, entry.bytes, entry.offset);
    const read = decodeFrame(buf.subarray(0, bytesRead), 0);
    if (read.kind === 'frame') return read.delivery;
    return `${segmentName(entry.seq)}@${entry.offset}: ${read.kind === 'corrupt' ? read.reason : 'short read'}`;
  }

  /**
   * The first `count` waiting deliveries are on Kafka: move the cursor past them (durably) and
   * delete segments nothing waits in any more.
   */
  async ack(count: number): Promise<void> {
    const done = this.#entries.splice(0, count);
    for (const entry of done) {
      for (const key of entry.keys) {
        const n = (this.#keys.get(key) ?? 1) - 1;
        if (n <= 0) this.#keys.delete(key);
        else this.#keys.set(key, n);
      }
    }
    const head = this.#entries[0];
    if (!head && this.#writing) {
      // Appends are being written to the active segment: the cursor goes to its current end.
      const seq = this.#active?.seq ?? this.#nextSeq;
      await writeCursor(this.dir, { seq, offset: this.#segments.get(seq) ?? 0 });
      await this.#dropSegments((s) => s < seq);
      return;
    }
    if (!head) {
      // Nothing waits: start over with an empty directory (and a fresh segment on next append).
      // The cursor moves first, so a crash while segments are deleted re-reads none of them.
      await this.#closeActive();
      await writeCursor(this.dir, { seq: this.#nextSeq, offset: 0 });
      await this.#dropSegments(() => true);
      await syncDir(this.dir);
      return;
    }
    await writeCursor(this.dir, { seq: head.seq, offset: head.offset });
    await this.#dropSegments((seq) => seq < head.seq);
  }

  async #dropSegments(which: (seq: number) => boolean): Promise<void> {
    for (const seq of [...this.#segments.keys()]) {
      if (!which(seq) || seq === this.#active?.seq) continue;
      await this.#readers.get(seq)?.close();
      this.#readers.delete(seq);
      await rm(join(this.dir, segmentName(seq)), { force: true });
      this.#segments.delete(seq);
    }
  }

  /** Wait for appends in progress, then release the files and the lock. Waiting data stays. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#writing) await this.#writing;
    await this.#closeActive();
    for (const handle of this.#readers.values()) await handle.close();
    this.#readers.clear();
    await rm(join(this.dir, LOCK_FILE), { force: true });
  }
}

export interface SpoolScan {
  segments: Map<number, number>;
  entries: SpoolEntry[];
  lastSeq: number;
  /** Frames that failed their checksum or were cut short (and, with `repair`, were cut away). */
  torn: { segment: string; offset: number; bytes: number; reason: string }[];
}

/**
 * Walk every segment from the cursor: the deliveries still waiting, in order. With `repair`,
 * a bad frame and everything after it in its segment is truncated away (read-only otherwise,
 * for `spool inspect` while a receiver runs).
 */
export async function scanSpool(
  dir: string,
  { repair = false, log }: { repair?: boolean; log?: Logger | undefined } = {},
): Promise<SpoolScan> {
  const seqs = (await readdir(dir))
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const cursor = await readCursor(dir);
  const segments = new Map<number, number>();
  const entries: SpoolEntry[] = [];
  const torn: SpoolScan['torn'] = [];
  for (const seq of seqs) {
    const path = join(dir, segmentName(seq));
    if (cursor && seq < cursor.seq) {
      // Forwarded before the process stopped, not yet deleted.
      if (repair) await rm(path, { force: true });
      continue;
    }
    const buf = await readFile(path);
    let offset = cursor && seq === cursor.seq ? cursor.offset : 0;
    for (;;) {
      if (offset >= buf.length) break;
      const read = decodeFrame(buf, offset);
      if (read.kind !== 'frame') {
        const reason = read.kind === 'short' ? 'cut short' : read.reason;
        torn.push({ segment: segmentName(seq), offset, bytes: buf.length - offset, reason });
        if (repair) {
          await truncate(path, offset);
          log?.debug({ segment: segmentName(seq), offset, reason }, 'spool: truncated frame');
        }
        break;
      }
      const { keys, at } = read.delivery;
      entries.push({ seq, offset, bytes: read.bytes, keys, at });
      offset += read.bytes;
    }
    segments.set(seq, repair ? Math.min(buf.length, offset) : buf.length);
  }
  return { segments, entries, lastSeq: seqs.at(-1) ?? 0, torn };
}

async function readCursor(dir: string): Promise<{ seq: number; offset: number } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, CURSOR_FILE), 'utf8')) as {
      seq?: unknown;
      offset?: unknown;
    };
    if (typeof parsed.seq === 'number' && typeof parsed.offset === 'number') {
      return { seq: parsed.seq, offset: parsed.offset };
    }
  } catch {
    // No cursor: nothing was forwarded from the first segment yet.
  }
  return undefined;
}

async function writeCursor(dir: string, cursor: { seq: number; offset: number }): Promise<void> {
  const tmp = join(dir, `${CURSOR_FILE}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(cursor));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(dir, CURSOR_FILE));
  await syncDir(dir);
}

/** fsync the directory so a created, renamed or deleted file survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the data files themselves are synced.
  } finally {
    await handle.close();
  }
}

async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE);
  try {
    const owner = Number((await readFile(path, 'utf8')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `[changegate/spool] ${dir} is in use by process ${owner}; give each receiver its own ingest.spool.dir`,
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(path, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
