import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { WORKER_NAMES } from '../../../src/runtime/workers.js';
import { cliCommands, requiredVariables, sampleSecret, yamlFile } from './deploy-files.js';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = yamlFile<{ services: Record<string, Service> }>('deploy/compose.yaml');
const services = compose.services;
const changegate = Object.entries(services).filter(([, s]) => s.image?.startsWith('changegate:'));

/** The value compose would give `${NAME:?…}` / `${NAME:-default}` once deploy/.env is filled in. */
function resolveEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_, name: string, def?: string) =>
        def !== undefined ? def : sampleSecret(name),
      ),
    ]),
  );
}

/** The config file a service reads: its CHANGEGATE_CONFIG mapped back through its volume. */
function configPath(service: Service): string {
  const inContainer = service.environment?.CHANGEGATE_CONFIG ?? '';
  for (const volume of service.volumes ?? []) {
    const [host, target] = volume.split(':') as [string, string];
    if (inContainer.startsWith(`${target}/`))
      return `deploy/${host.replace(/^\.\//, '')}${inContainer.slice(target.length)}`;
  }
  throw new Error(`CHANGEGATE_CONFIG ${inContainer} is not on a mounted volume`);
}

describe('deploy/compose.yaml', () => {
  it('runs Kafka 4.1.2 from the official image as a single KRaft node', () => {
    const kafka = services.kafka!;
    expect(kafka.image).toBe('apache/kafka:4.1.2');
    const env = kafka.environment!;
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:9093`);
    expect(env.KAFKA_LISTENERS).toContain('CONTROLLER://:9093');
    // A single broker cannot replicate the offsets topic: consumers never join otherwise.
    expect(Number(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe(1);
    expect(Number(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR)).toBe(1);
  });

  it('builds changegate from the repository Dockerfile and runs only real CLI commands', () => {
    expect(changegate.length).toBeGreaterThanOrEqual(3);
    for (const [name, service] of changegate) {
      expect(service.build, name).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(cliCommands(), name).toContain(service.command?.[0]);
    }
  });

  it('runs every worker exactly once, and the gate worker in a service of its own', () => {
    const workerServices = changegate.filter(([, s]) => s.command?.[0] === 'worker');
    const names = workerServices.flatMap(([, s]) => s.command![1]!.split(','));
    expect([...names].sort()).toEqual([...WORKER_NAMES].sort());
    const gate = workerServices.find(([, s]) => s.command![1]!.split(',').includes('gate'));
    expect(gate?.[1].command).toEqual(['worker', 'gate']);
    // Two replicas of one consumer group: one takes over the other's partitions when it dies.
    expect((gate?.[1] as { deploy?: { replicas?: number } }).deploy?.replicas).toBe(2);
  });

  it('starts changegate only after Kafka is healthy', () => {
    for (const [name, service] of changegate.filter(([, s]) => !s.profiles)) {
      expect(service.depends_on?.kafka?.condition, name).toBe('service_healthy');
    }
  });

  it('gives each service a valid config with every variable it needs in its environment', () => {
    for (const [name, service] of changegate.filter(([, s]) => !s.profiles)) {
      const path = configPath(service);
      const env = resolveEnv(service.environment ?? {});
      for (const variable of requiredVariables(path))
        expect(Object.keys(env), `${name} needs ${variable} for ${path}`).toContain(variable);
      const config = loadConfig({ path, env });
      expect(config.kafka.brokers).toEqual(['kafka:9092']);
    }
  });

  it("keeps ServiceNow out of the receiver's config, so `start` runs no second gate worker", () => {
    const receiver = changegate.find(([, s]) => s.command?.[0] === 'start')![1];
    const path = configPath(receiver);
    const config = loadConfig({ path, env: resolveEnv(receiver.environment ?? {}) });
    expect(Object.keys(config.servicenow.connections)).toEqual([]);
    expect(config.sources.github?.secrets).toHaveLength(1);
  });
});
