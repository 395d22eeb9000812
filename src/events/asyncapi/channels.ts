import { CHANNEL_DESCRIPTIONS, KAFKA_BINDING, KEYS, ref, type Json, type Topic } from './topics.js';

/**
 * The document's channels: one per configured topic, with its messages and, when known, its
 * partitions and retention as `bus/topics.ts` creates it.
 *
 * @module
 */

/** How a topic is kept, as `bus/topics.ts` creates it. */
export interface AsyncApiTopicSpec {
  topic: string;
  partitions: number;
  cleanup?: 'delete' | 'compact';
  retentionMs?: number;
}

function channelBinding(address: string, specs: readonly AsyncApiTopicSpec[] | undefined): Json {
  const spec = specs?.find((s) => s.topic === address);
  if (!spec) return {};
  const topicConfiguration: Json = { 'cleanup.policy': [spec.cleanup ?? 'delete'] };
  if (spec.retentionMs !== undefined) topicConfiguration['retention.ms'] = spec.retentionMs;
  return {
    bindings: {
      kafka: {
        topic: address,
        partitions: spec.partitions,
        topicConfiguration,
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
}

/**
 * The channels of the configured topics, by logical name.
 * @param addresses topic names by logical name; a topic without one is not described.
 * @param byTopic message names by logical topic name.
 */
export function channels(
  addresses: Partial<Record<Topic, string>>,
  byTopic: Partial<Record<Topic, string[]>>,
  specs: readonly AsyncApiTopicSpec[] | undefined,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const name of Object.keys(KEYS) as Topic[]) {
    const address = addresses[name];
    // Topics a deployment does not configure (older configs) are simply not described.
    if (address === undefined) continue;
    out[name] = {
      address,
      title: address,
      description: `${CHANNEL_DESCRIPTIONS[name]} Key: ${KEYS[name]}`,
      messages: Object.fromEntries(
        (byTopic[name] ?? []).map((m) => [m, ref(`#/components/messages/${m}`)]),
      ),
      ...channelBinding(address, specs),
    };
  }
  return out;
}
