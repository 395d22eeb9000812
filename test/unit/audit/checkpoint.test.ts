import { describe, expect, it } from 'vitest';
import type { ChainHead } from '../../../src/audit/chain.js';
import { GENESIS_HASH } from '../../../src/audit/chain.js';
import {
  checkpointDigest,
  combinedRoot,
  compareWithCheckpoint,
  foldCheckpoints,
  fullCheckpointProblem,
  makeCheckpoint,
  newestPerPartition,
  type Checkpoint,
} from '../../../src/audit/checkpoint.js';

const KEY = Buffer.alloc(32, 9);
const hash = (c: string) => c.repeat(64);
const heads = (...hs: [string, number, string][]) =>
  new Map<string, ChainHead>(hs.map(([k, seq, h]) => [k, { seq, hash: hash(h) }]));

/** A partition's chain of checkpoints over successive heads, each listing only what moved. */
function chainOf(partition: number, states: Map<string, ChainHead>[]): Checkpoint[] {
  const out: Checkpoint[] = [];
  let before: Map<string, ChainHead> | undefined;
  for (const [i, now] of states.entries()) {
    const last = out.at(-1);
    out.push(
      makeCheckpoint(
        KEY,
        {
          ledgerTopic: 'ledger',
          partition,
          n: i + 1,
          prev: last ? checkpointDigest(last) : GENESIS_HASH,
          at: new Date(Date.UTC(2026, 11, 1, 10, i)),
          heads: now,
          ...(before ? { since: before } : {}),
        },
        false,
      ),
    );
    before = now;
  }
  return out;
}

describe('per-partition checkpoints', () => {
  const p0 = chainOf(0, [heads(['CHG1', 1, 'a']), heads(['CHG1', 2, 'b'], ['CHG3', 1, 'c'])]);
  const p1 = chainOf(1, [heads(['CHG2', 4, 'd'])]);

  it('folds each partition’s chain on its own, interleaved as the topic holds them', () => {
    const folded = foldCheckpoints(KEY, [p0[0]!, p1[0]!, p0[1]!]);
    expect(folded.problems).toEqual([]);
    expect(p0[1]).toMatchObject({
      full: false,
      chains: 2,
      heads: [
        { key: 'CHG1', seq: 2 },
        { key: 'CHG3', seq: 1 },
      ],
    });
    expect(folded.newest.get(0)?.heads).toEqual(heads(['CHG1', 2, 'b'], ['CHG3', 1, 'c']));
    expect(folded.newest.get(1)?.checkpoint.n).toBe(1);
  });

  it('passes over a checkpoint signed without the key, and stops only the partition whose chain breaks', () => {
    const forged = { ...p0[1]!, heads: [], chains: 0, sig: 'forged' };
    const misnumbered = chainOf(1, [heads(['CHG2', 4, 'd']), heads(['CHG2', 5, 'e'])])[1]!;
    const folded = foldCheckpoints(KEY, [
      p0[0]!,
      forged,
      p1[0]!,
      { ...misnumbered, n: 3 } as Checkpoint,
      p0[1]!,
    ]);
    expect(folded.problems).toEqual([
      expect.stringMatching(/^checkpoint #2 of partition 0 .*: signature does not verify$/),
      expect.stringMatching(/^checkpoint #3 of partition 1 .*: signature does not verify$/),
    ]);
    expect(folded.newest.get(0)?.checkpoint.n).toBe(2);
    // Re-signed with the key but numbered wrong: partition 1 stops there, partition 0 goes on.
    const resigned = makeCheckpoint(
      KEY,
      {
        ledgerTopic: 'ledger',
        partition: 1,
        n: 3,
        prev: checkpointDigest(p1[0]!),
        at: new Date(),
        heads: heads(['CHG2', 5, 'e']),
      },
      true,
    );
    const stopped = foldCheckpoints(KEY, [p0[0]!, p1[0]!, resigned, p0[1]!]);
    expect(stopped.problems).toEqual([
      expect.stringMatching(/^checkpoint #3 of partition 1 .*: numbered 3 where 2 was expected$/),
    ]);
    expect(stopped.newest.get(1)?.checkpoint.n).toBe(1);
    expect(stopped.newest.get(0)?.checkpoint.n).toBe(2);
  });

  it('names the combination of partitions by one root that moves with any of them', () => {
    const a = foldCheckpoints(KEY, [...p0, ...p1]).newest;
    const b = foldCheckpoints(KEY, [p0[0]!, ...p1]).newest;
    expect(combinedRoot(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(combinedRoot(a)).not.toBe(combinedRoot(b));
    expect(combinedRoot(a)).toBe(combinedRoot(new Map([...a].reverse())));
  });

  it('keeps the newest full checkpoint per partition across several replicas’ files', () => {
    const full = (c: Checkpoint, hs: Map<string, ChainHead>) =>
      makeCheckpoint(KEY, { ...c, partition: c.partition, at: new Date(c.at), heads: hs }, true);
    const older = full(p0[0]!, heads(['CHG1', 1, 'a']));
    const newer = full(p0[1]!, heads(['CHG1', 2, 'b'], ['CHG3', 1, 'c']));
    expect(fullCheckpointProblem(KEY, newer)).toBeUndefined();
    expect(fullCheckpointProblem(Buffer.alloc(32, 1), newer)).toMatch(/signature does not verify/);
    expect(fullCheckpointProblem(KEY, { ...newer, chains: 3 })).toMatch(/signature/);
    const newest = newestPerPartition([newer, older, full(p1[0]!, heads(['CHG2', 4, 'd']))]);
    expect(newest.get(0)?.n).toBe(2);
    expect(newest.get(1)?.n).toBe(1);
  });

  it('reports a chain behind, missing from or diverging from its partition’s checkpoint', () => {
    const anchor = heads(['CHG1', 3, 'a'], ['CHG2', 1, 'b'], ['CHG3', 2, 'c']);
    const ledger = [
      { key: 'CHG1', seq: 1, hash: hash('x') },
      { key: 'CHG1', seq: 2, hash: hash('y') },
      { key: 'CHG3', seq: 1, hash: hash('z') },
      { key: 'CHG3', seq: 2, hash: hash('w') },
    ];
    expect(
      compareWithCheckpoint(ledger, anchor, 'checkpoint #4 of partition 2').map((m) => [
        m.key,
        m.seq,
        m.reason.split(':')[0],
      ]),
    ).toEqual([
      ['CHG1', 3, 'chain truncated'],
      ['CHG2', 1, 'chain deleted'],
      ['CHG3', 2, 'chain rewritten'],
    ]);
  });
});
