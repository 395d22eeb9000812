/**
 * Run tasks one after the other per key, concurrently across keys. Events of one fingerprint
 * arrive on different partitions (the cicd key is per run), so without this two failures of
 * one pipeline handled at once would both find no incident and both file one.
 */
export function keyedSerial(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, task) => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
