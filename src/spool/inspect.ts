import { scanSpool, type SpoolScan } from './spool.js';

export interface SpoolReport {
  dir: string;
  /** Deliveries waiting to be forwarded. */
  deliveries: number;
  /** Bytes of segment files on disk. */
  bytes: number;
  segments: number;
  /** When the oldest waiting delivery was spooled, ms since epoch. */
  oldestAt: number | undefined;
  /** Bad or incomplete frames at a segment's end (a crash, or a write in progress right now). */
  torn: SpoolScan['torn'];
}

/** Read a spool directory without taking it: safe while its receiver runs. */
export async function inspectSpool(dir: string): Promise<SpoolReport> {
  const scan = await scanSpool(dir);
  let bytes = 0;
  for (const size of scan.segments.values()) bytes += size;
  return {
    dir,
    deliveries: scan.entries.length,
    bytes,
    segments: scan.segments.size,
    oldestAt: scan.entries[0]?.at,
    torn: scan.torn,
  };
}

/** The lines `changegate spool inspect` prints. */
export function formatSpoolReport(report: SpoolReport, now = Date.now()): string {
  const oldest =
    report.oldestAt === undefined
      ? 'none'
      : `${new Date(report.oldestAt).toISOString()} (${Math.round((now - report.oldestAt) / 1000)} s ago)`;
  const lines = [
    `spool:      ${report.dir}`,
    `deliveries: ${report.deliveries} waiting for Kafka`,
    `oldest:     ${oldest}`,
    `size:       ${report.bytes} bytes in ${report.segments} segment(s)`,
  ];
  for (const t of report.torn) {
    lines.push(
      `torn:       ${t.segment} at ${t.offset}: ${t.bytes} bytes, ${t.reason} (dropped at the next start)`,
    );
  }
  return lines.join('\n');
}
