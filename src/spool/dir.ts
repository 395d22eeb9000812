import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';

/**
 * The spool directory of this receiver. Configured (`ingest.spool.dir`): that. Otherwise
 * `data/spool/<port>` under the working directory, so two receivers on one host never share
 * one; with the in-memory bus (nothing outlives the process anyway) or port 0 (a port picked at
 * random has no next run to drain for), a fresh temporary directory.
 */
export function spoolDir(config: Config): { dir: string; ephemeral: boolean } {
  if (config.ingest.spool.dir) return { dir: resolve(config.ingest.spool.dir), ephemeral: false };
  if (config.bus === 'memory' || config.server.port === 0) {
    return { dir: mkdtempSync(join(tmpdir(), 'changegate-spool-')), ephemeral: true };
  }
  return { dir: resolve('data', 'spool', String(config.server.port)), ephemeral: false };
}
