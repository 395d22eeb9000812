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

/** `{ cicd: '<prefix>.cicd', … }` for every key of {@link STACK_TOPIC_KEYS}. */
export function stackTopics(prefix: string): Record<string, string> {
  return Object.fromEntries(STACK_TOPIC_KEYS.map((key) => [key, `${prefix}.${key}`]));
}

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
