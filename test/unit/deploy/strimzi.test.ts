import { describe, expect, it } from 'vitest';
import { topicSpecs } from '../../../src/bus/topics.js';
import { ConfigSchema } from '../../../src/config/schema.js';
import { loadConfig } from '../../../src/config/load.js';
import { type K8sObject, requiredVariables, sampleSecret, yamlDocuments } from './deploy-files.js';

interface KafkaTopic extends K8sObject {
  spec: { topicName: string; partitions: number; replicas: number; config: Record<string, string> };
}
const topics = yamlDocuments('deploy/strimzi/topics.yaml') as KafkaTopic[];
const kafka = yamlDocuments('deploy/strimzi/kafka.yaml') as K8sObject[];
const defaults = ConfigSchema.parse({ bus: 'memory' });

describe('deploy/strimzi', () => {
  it('declares one KafkaTopic per topic of topicSpecs, with its partitions, cleanup and retention', () => {
    const specs = topicSpecs(defaults.kafka);
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual(specs.map((s) => s.topic).sort());
    for (const spec of specs) {
      const topic = topics.find((t) => t.spec.topicName === spec.topic)!;
      expect(topic.kind).toBe('KafkaTopic');
      expect(topic.apiVersion).toMatch(/^kafka\.strimzi\.io\/v1(beta2)?$/);
      expect(topic.spec.partitions, spec.topic).toBe(spec.partitions);
      expect(topic.spec.config['cleanup.policy'], spec.topic).toBe(spec.cleanup ?? 'delete');
      expect(topic.spec.config['retention.ms'], spec.topic).toBe(
        spec.retentionMs === undefined ? undefined : String(spec.retentionMs),
      );
    }
  });

  it('matches the partitions the Kubernetes config asks for, with acks=all surviving one broker loss', () => {
    const path = 'deploy/kubernetes/config/workers.yaml';
    const config = loadConfig({
      path,
      env: Object.fromEntries(requiredVariables(path).map((v) => [v, sampleSecret(v)])),
    });
    for (const spec of topicSpecs(config.kafka)) {
      const topic = topics.find((t) => t.spec.topicName === spec.topic)!;
      expect(topic.spec.partitions).toBe(spec.partitions);
      expect(topic.spec.replicas).toBe(config.kafka.replicationFactor);
      expect(Number(topic.spec.config['min.insync.replicas'])).toBe(topic.spec.replicas - 1);
    }
  });

  it('puts every topic on the Kafka cluster of kafka.yaml, whose bootstrap service the config names', () => {
    const cluster = kafka.find((o) => o.kind === 'Kafka')!;
    for (const t of topics)
      expect(t.metadata.labels?.['strimzi.io/cluster']).toBe(cluster.metadata.name);
    const path = 'deploy/kubernetes/config/receiver.yaml';
    const config = loadConfig({
      path,
      env: Object.fromEntries(requiredVariables(path).map((v) => [v, sampleSecret(v)])),
    });
    expect(config.kafka.brokers[0]).toMatch(
      new RegExp(`^${cluster.metadata.name}-kafka-bootstrap\\.`),
    );
  });

  it('runs the Kafka Exporter over the worker consumer groups (the lag alert reads it)', () => {
    const cluster = kafka.find((o) => o.kind === 'Kafka') as K8sObject & {
      spec: { kafkaExporter?: { groupRegex: string } };
    };
    const groupRegex = new RegExp(`^${cluster.spec.kafkaExporter!.groupRegex}$`);
    for (const group of ['changegate-change', 'changegate-gate', 'changegate-notify'])
      expect(group).toMatch(groupRegex);
  });
});
