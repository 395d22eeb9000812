import { crc32 } from 'node:zlib';
import type { BusRecord } from '../bus/port.js';

/**
 * One spooled delivery on disk: `u32 length | u32 crc32(payload) | payload` (big-endian), the
 * payload a JSON document of the delivery's bus records (events and dedupe markers together).
 *
 * Why this format and no library: the spool needs exactly three properties — append-only, a
 * torn tail after a crash is recognisable, a reader can walk it in order — and a length prefix
 * plus a checksum give all three in ~60 lines with `node:zlib`'s crc32 (Node ≥ 22.2), no native
 * dependency to build, and a layout an operator can decode with any tool. An embedded database
 * (SQLite, LevelDB/LMDB bindings) would add a native module and its own durability knobs for a
 * queue that is only ever appended at its tail and consumed from its head. JSON keeps a frame
 * readable by `changegate spool inspect`; the values are base64 because event bodies are bytes.
 *
 * @module
 */

export const FRAME_HEADER_BYTES = 8;
/** Far above any delivery (the body limit is 1 MiB by default); a larger length is corruption. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export interface SpooledDelivery {
  /** Dedupe keys of the delivery (its markers are among `records`). */
  keys: string[];
  /** When it was spooled, ms since epoch. */
  at: number;
  records: BusRecord[];
}

interface WireRecord {
  t: string;
  k: string | null;
  v: string | null;
  h: Record<string, string>;
}

export function encodeFrame(delivery: SpooledDelivery): Buffer {
  const wire = {
    keys: delivery.keys,
    at: delivery.at,
    records: delivery.records.map((r): WireRecord => ({
      t: r.topic,
      k: r.key,
      v: r.value === null ? null : r.value.toString('base64'),
      h: r.headers,
    })),
  };
  const payload = Buffer.from(JSON.stringify(wire), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export type FrameRead =
  | { kind: 'frame'; delivery: SpooledDelivery; bytes: number }
  /** Fewer bytes than the header or the length announce: a write cut short (or still going). */
  | { kind: 'short' }
  /** The checksum or the JSON does not match: a torn or damaged frame. */
  | { kind: 'corrupt'; reason: string };

/** Decode the frame starting at `offset` of `buf`. Pure: never throws on bad bytes. */
export function decodeFrame(buf: Buffer, offset: number): FrameRead {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'short' };
  const length = buf.readUInt32BE(offset);
  const checksum = buf.readUInt32BE(offset + 4);
  if (length === 0 || length > MAX_FRAME_BYTES) {
    return { kind: 'corrupt', reason: `implausible frame length ${length}` };
  }
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { kind: 'short' };
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
  if (crc32(payload) !== checksum) return { kind: 'corrupt', reason: 'checksum mismatch' };
  try {
    const wire = JSON.parse(payload.toString('utf8')) as {
      keys: string[];
      at: number;
      records: WireRecord[];
    };
    return {
      kind: 'frame',
      bytes: FRAME_HEADER_BYTES + length,
      delivery: {
        keys: wire.keys,
        at: wire.at,
        records: wire.records.map((r) => ({
          topic: r.t,
          key: r.k,
          value: r.v === null ? null : Buffer.from(r.v, 'base64'),
          headers: r.h,
        })),
      },
    };
  } catch (err) {
    return { kind: 'corrupt', reason: `unreadable payload: ${(err as Error).message}` };
  }
}
