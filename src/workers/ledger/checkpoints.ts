import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  CheckpointFileSchema,
  CheckpointSchema,
  checkpointDigest,
  checkpointFile,
  foldCheckpoints,
  fullCheckpoint,
  fullCheckpointProblem,
  makeCheckpoint,
  type Checkpoint,
  type Heads,
} from '../../audit/checkpoint.js';
import { GENESIS_HASH, type ChainHead } from '../../audit/chain.js';
import type { AuditKey } from '../../audit/signing.js';
import type { Bus } from '../../bus/port.js';
import type { Logger } from '../../log.js';
import { recordJson } from './record-json.js';

export interface CheckpointWriterOptions {
  bus: Pick<Bus, 'publish' | 'readToEnd'>;
  ledgerTopic: string;
  checkpointTopic: string;
  key: AuditKey;
  log: Logger;
  clock: () => Date;
  /** The checkpoint file of this replica (write-once storage), if any. */
  file?: string;
  /**
   * Every chain head of a ledger partition as this replica holds it now, or undefined when it
   * does not own the partition (it must not write the partition's checkpoint then).
   */
  headsOf: (partition: number) => Map<string, ChainHead> | undefined;
}

export interface CheckpointWriter {
  /**
   * Write a checkpoint for each of `partitions` whose chains moved since its last one; resolves
   * with those written. One call at a time: two racing would both claim number n. `heads`: the
   * partitions' heads taken already (at revocation, before the tasks go); else `headsOf` them
   * when their turn comes.
   */
  write(
    partitions: readonly number[],
    heads?: ReadonlyMap<number, Map<string, ChainHead>>,
  ): Promise<Checkpoint[]>;
  /** A partition was (re)assigned: its last checkpoint is read again before the next write. */
  forget(partitions: readonly number[]): void;
}

interface Known {
  last?: Checkpoint;
  heads: Heads;
}

/**
 * The checkpoints of the partitions one replica owns: per partition, a chain numbered 1, 2, 3…
 * (src/audit/checkpoint.ts). A partition's chain continues where its last owner left it, so
 * before a replica writes the first checkpoint of a partition it was assigned, it reads the
 * checkpoint topic for that partition's newest — lazily, at its first write (on the schedule, or
 * at revocation), not at assignment: by then the previous owner's revocation checkpoint has long
 * landed, and an assignment does not wait for a read of the whole checkpoint history.
 */
export function createCheckpointWriter(options: CheckpointWriterOptions): CheckpointWriter {
  const { bus, ledgerTopic, checkpointTopic, key, log, clock, file, headsOf } = options;
  const known = new Map<number, Known>();
  const onFile = new Map<number, Checkpoint>(file ? readOwnFile(file, key, log) : []);
  let queue: Promise<unknown> = Promise.resolve();

  async function load(partitions: readonly number[]) {
    const missing = partitions.filter((p) => !known.has(p));
    if (missing.length === 0) return;
    const written: Checkpoint[] = [];
    await bus.readToEnd(checkpointTopic, (record) => {
      const parsed = CheckpointSchema.safeParse(recordJson(record.value));
      if (parsed.success && parsed.data.ledgerTopic === ledgerTopic) written.push(parsed.data);
    });
    const folded = foldCheckpoints(key, written);
    const mine = folded.problems.filter((p) => missing.some((m) => p.includes(`partition ${m} `)));
    if (mine.length > 0) log.error({ problems: mine }, 'audit checkpoint topic does not verify');
    for (const p of missing) {
      const newest = folded.newest.get(p);
      known.set(
        p,
        newest ? { last: newest.checkpoint, heads: newest.heads } : { heads: new Map() },
      );
    }
  }

  function moved(now: Heads, before: Heads): boolean {
    if (now.size !== before.size) return true;
    for (const [k, h] of now) {
      const b = before.get(k);
      if (b?.seq !== h.seq || b.hash !== h.hash) return true;
    }
    return false;
  }

  async function writeNow(
    partitions: readonly number[],
    taken?: ReadonlyMap<number, Map<string, ChainHead>>,
  ): Promise<Checkpoint[]> {
    await load(partitions);
    const out: Checkpoint[] = [];
    for (const partition of partitions) {
      const heads = taken ? taken.get(partition) : headsOf(partition);
      const before = known.get(partition);
      if (!heads || !before || !moved(heads, before.heads)) continue;
      const { last } = before;
      const c = makeCheckpoint(
        key,
        {
          ledgerTopic,
          partition,
          n: (last?.n ?? 0) + 1,
          prev: last ? checkpointDigest(last) : GENESIS_HASH,
          at: clock(),
          heads,
          ...(last ? { since: before.heads } : {}),
        },
        false,
      );
      await bus.publish([
        {
          topic: checkpointTopic,
          key: `${ledgerTopic}#${partition}`,
          value: Buffer.from(JSON.stringify(c)),
          headers: {
            'content-type': 'application/json',
            'changegate-checkpoint': String(c.n),
            'changegate-ledger-partition': String(partition),
          },
        },
      ]);
      known.set(partition, { last: c, heads });
      onFile.set(partition, fullCheckpoint(key, c, heads));
      out.push(c);
      log.info(
        { partition, checkpoint: c.n, chains: c.chains, moved: c.heads.length },
        'audit checkpoint written',
      );
    }
    if (file && out.length > 0) writeOwnFile(file, onFile.values());
    return out;
  }

  return {
    write(partitions, heads) {
      const run = queue.then(() => writeNow(partitions, heads));
      queue = run.catch(() => undefined);
      return run;
    },
    forget(partitions) {
      for (const p of partitions) known.delete(p);
    },
  };
}

/** The file's checkpoints that verify: the partitions this replica wrote before a restart. */
function readOwnFile(file: string, key: AuditKey, log: Logger): [number, Checkpoint][] {
  if (!existsSync(file)) return [];
  const parsed = CheckpointFileSchema.safeParse(recordJson(readFileSync(file)));
  if (!parsed.success) {
    log.warn({ file }, 'checkpoint file is not a checkpoint file; starting it afresh');
    return [];
  }
  return parsed.data.checkpoints
    .filter((c) => fullCheckpointProblem(key, c) === undefined)
    .map((c) => [c.partition, c]);
}

function writeOwnFile(file: string, checkpoints: Iterable<Checkpoint>) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(checkpointFile(checkpoints), null, 2)}\n`, { mode: 0o640 });
  renameSync(tmp, file); // atomic: a reader sees the old checkpoints or the new, never half
}
