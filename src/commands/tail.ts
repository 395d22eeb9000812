import { randomUUID } from 'node:crypto';
import { createBus } from '../bus/index.js';
import { fromRecord } from '../bus/cloudevents.js';
import type { ConsumedRecord } from '../bus/port.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';

export interface TailOptions {
  topic: string;
  fromBeginning: boolean;
  /** Stop after this many records (for scripts). */
  max?: number | undefined;
  /** Stop after this many ms with no record. */
  idleMs?: number | undefined;
  write?: (line: string) => void;
}

/**
 * `changegate tail <topic>`: print each record as one JSON line — the CloudEvent when it is one,
 * else the key and value — for people and for scripts (`| jq`).
 */
export async function tail(config: Config, log: Logger, options: TailOptions): Promise<number> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const bus = createBus(config, { log });
  let count = 0;
  let idle: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const armIdle = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(finish, options.idleMs);
  };
  const subscription = await bus.subscribe({
    groupId: `changegate-tail-${randomUUID()}`,
    topics: [options.topic],
    fromBeginning: options.fromBeginning,
    handler: async (record) => {
      write(JSON.stringify(describe(record)));
      count += 1;
      armIdle();
      if (options.max !== undefined && count >= options.max) finish();
    },
  });
  armIdle();
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  await done;
  clearTimeout(idle);
  await subscription.close();
  await bus.close();
  return count;
}

function describe(record: ConsumedRecord): Record<string, unknown> {
  const meta = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    timestamp: new Date(record.timestamp).toISOString(),
  };
  try {
    return { ...meta, event: fromRecord(record) };
  } catch {
    return { ...meta, headers: record.headers, value: record.value?.toString('utf8') ?? null };
  }
}
