import { createKafkaBus } from '../../../src/bus/kafka.js';
import { topicSpecs } from '../../../src/bus/topics.js';
import { KafkaSchema, type Config } from '../../../src/config/schema.js';
import { poll } from './poll.js';

/**
 * The topics of a process stack: names of their own per run, so that runs on one broker never
 * read each other's records, created before any process starts.
 *
 * @module
 */

/** The config keys (`kafka.topics.*`) a receiver and the change, gate and incident workers use. */
export const STACK_TOPIC_KEYS = [
  'cicd',
  'changes',
  'servicenow',
  'gateState',
  'audit',
  'dlq',
  'deliveries',
] as const satisfies readonly (keyof Config['kafka']['topics'])[];

type TopicKey = keyof Config['kafka']['topics'];

/** Every topic key of the config, in its order. */
export const ALL_TOPIC_KEYS = Object.keys(
  KafkaSchema.parse({ brokers: ['localhost:9092'] }).topics,
) as TopicKey[];

/** `{ cicd: '<prefix>.cicd', … }` for `keys` (default: every topic of the config). */
export function prefixedTopics(
  prefix: string,
  keys: readonly TopicKey[] = ALL_TOPIC_KEYS,
): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, `${prefix}.${key}`]));
}

/** {@link prefixedTopics} for the topics of a process stack ({@link STACK_TOPIC_KEYS}). */
export const stackTopics = (prefix: string) => prefixedTopics(prefix, STACK_TOPIC_KEYS);

/**
 * Create the topics up front, as a deployment does (Strimzi KafkaTopic, a provisioning job), and
 * wait until every partition has a leader that answers ListOffsets. Left to the receiver, a
 * topic created a moment earlier can fail its first ListOffsets with NOT_LEADER_FOR_PARTITION,
 * which KafkaBus.readToEnd (DeliveryLog.restore at receiver start) does not retry.
 */
export async function provisionTopics(
  brokers: string[],
  topics: Record<string, string>,
  partitions: number,
): Promise<void> {
  const bus = createKafkaBus({ brokers, clientId: 'changegate-test-provision' });
  try {
    await bus.ensureTopics(topicSpecs(KafkaSchema.parse({ brokers, topics, partitions })));
    for (const topic of Object.values(topics)) {
      await poll(
        () =>
          bus
            .readToEnd(topic, () => undefined)
            .then(
              () => true,
              () => false,
            ),
        `partition leaders of ${topic}`,
        30_000,
        200,
      );
    }
  } finally {
    await bus.close();
  }
}
