import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { WORKER_NAMES } from '../../../src/runtime/workers.js';
import {
  cliCommands,
  type K8sObject,
  requiredVariables,
  ROOT,
  sampleSecret,
  yamlDocuments,
  yamlFile,
} from './deploy-files.js';

const DIR = 'deploy/kubernetes';
const kustomization = yamlFile<{
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
  images: { name: string; newName: string; newTag: string }[];
}>(`${DIR}/kustomization.yaml`);
const objects = kustomization.resources.flatMap((file) =>
  yamlDocuments(`${DIR}/${file}`).map((o) => o as K8sObject),
);
const secret = yamlFile<K8sObject & { stringData: Record<string, string> }>(
  `${DIR}/secret.example.yaml`,
);
const configMap = kustomization.configMapGenerator[0]!;

interface Container {
  name: string;
  image: string;
  args: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    strategy?: { type: string };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

const byKind = <T extends K8sObject>(kind: string) => objects.filter((o) => o.kind === kind) as T[];
// The receiver is a StatefulSet (one spool volume per pod); the workers are Deployments.
const deployments = [...byKind<Deployment>('Deployment'), ...byKind<Deployment>('StatefulSet')];
const container = (d: Deployment) => d.spec.template.spec.containers[0]!;
const workersOf = (d: Deployment) =>
  container(d).args[0] === 'worker' ? container(d).args[1]!.split(',') : [];
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes', () => {
  it('has apiVersion, kind and a name on every object', () => {
    expect(objects.length).toBeGreaterThanOrEqual(10);
    for (const o of [...objects, secret]) {
      expect(o.apiVersion, JSON.stringify(o).slice(0, 80)).toMatch(/^([a-z0-9.]+\/)?v\d+\w*$/);
      expect(o.kind).toMatch(/^[A-Z]\w+$/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
  });

  it('runs a receiver that listens on the port its Service targets', () => {
    const receiver = deployments.filter((d) => container(d).args[0] === 'start');
    expect(receiver).toHaveLength(1);
    expect(cliCommands()).toContain('start');
    const service = byKind<
      K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }
    >('Service')[0]!;
    expect(selects(service.spec.selector, receiver[0]!.spec.template.metadata.labels)).toBe(true);
    const named = container(receiver[0]!).ports!.map((p) => p.name);
    expect(named).toContain(service.spec.ports[0]!.targetPort);
  });

  it('runs every worker in exactly one Deployment, and the gate worker alone in 2 replicas on 2 nodes, no more than partitions', () => {
    expect(cliCommands()).toContain('worker');
    const names = deployments.flatMap(workersOf);
    expect([...names].sort()).toEqual([...WORKER_NAMES].sort());
    const gate = deployments.find((d) => workersOf(d).includes('gate'))!;
    expect(workersOf(gate)).toEqual(['gate']);
    expect(gate.spec.replicas).toBe(2);
    // A replica beyond the partition count of changegate.changes would own nothing.
    const file = configMap.files.find((f) => f.endsWith('/workers.yaml'))!;
    const path = `${DIR}/${file}`;
    const config = loadConfig({
      path,
      env: Object.fromEntries(requiredVariables(path).map((v) => [v, sampleSecret(v)])),
    });
    expect(gate.spec.replicas).toBeLessThanOrEqual(config.kafka.partitions);
    const spec = gate.spec.template.spec as PodSpec & {
      affinity?: {
        podAntiAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: {
            topologyKey: string;
            labelSelector: { matchLabels: Record<string, string> };
          }[];
        };
      };
    };
    const [apart] =
      spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    expect(apart?.topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(apart!.labelSelector.matchLabels, gate.spec.template.metadata.labels)).toBe(
      true,
    );
  });

  it('autoscales only the receiver', () => {
    const hpas = byKind<
      K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }
    >('HorizontalPodAutoscaler');
    expect(hpas).toHaveLength(1);
    const target = deployments.find((d) => d.metadata.name === hpas[0]!.spec.scaleTargetRef.name)!;
    expect(container(target).args).toEqual(['start']);
    expect(hpas[0]!.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('gives every Deployment probes on /healthz and /readyz, requests, limits and a locked-down container', () => {
    for (const d of deployments) {
      const c = container(d);
      const name = d.metadata.name;
      expect(c.livenessProbe?.httpGet?.path, name).toBe('/healthz');
      expect(c.readinessProbe?.httpGet?.path, name).toBe('/readyz');
      expect(
        c.ports!.map((p) => p.name),
        name,
      ).toContain(c.livenessProbe!.httpGet!.port);
      expect(Object.keys(c.resources?.requests ?? {}).sort(), name).toEqual(['cpu', 'memory']);
      expect(c.resources?.limits?.memory, name).toBeDefined();
      expect(d.spec.template.spec.securityContext, name).toMatchObject({ runAsNonRoot: true });
      expect(d.spec.template.spec.securityContext?.runAsUser, name).not.toBe(0);
      expect(c.securityContext, name).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels), name).toBe(
        true,
      );
    }
  });

  it('covers every Deployment with a PodDisruptionBudget that cannot block a node drain', () => {
    const pdbs = byKind<
      K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> }; minAvailable?: number };
      }
    >('PodDisruptionBudget');
    for (const d of deployments) {
      const pdb = pdbs.find((p) =>
        selects(p.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      expect(pdb, d.metadata.name).toBeDefined();
      if (pdb!.spec.minAvailable !== undefined)
        expect(pdb!.spec.minAvailable, d.metadata.name).toBeLessThan(d.spec.replicas);
    }
  });

  it('uses a pinned image, never latest', () => {
    const image = kustomization.images[0]!;
    expect(image.newTag).toMatch(/^\d+\.\d+\.\d+/);
    for (const d of deployments) expect(container(d).image).toBe(image.name);
  });

  it('mounts the generated config and reads every secret it needs from the Secret', () => {
    for (const d of deployments) {
      const c = container(d);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
      const mount = c.volumeMounts!.find((m) =>
        env.CHANGEGATE_CONFIG!.value!.startsWith(`${m.mountPath}/`),
      )!;
      const volume = d.spec.template.spec.volumes!.find((v) => v.name === mount.name)!;
      expect(volume.configMap?.name).toBe(configMap.name);
      const key = env.CHANGEGATE_CONFIG!.value!.slice(mount.mountPath.length + 1);
      const file = configMap.files.find((f) => f.endsWith(`/${key}`))!;
      expect(file, `${d.metadata.name}: ${key} is not in the ConfigMap`).toBeDefined();
      const path = `${DIR}/${file}`;
      for (const variable of requiredVariables(path)) {
        const ref = env[variable]?.valueFrom?.secretKeyRef;
        expect(ref, `${d.metadata.name} needs ${variable}`).toBeDefined();
        expect(ref!.name).toBe(secret.metadata.name);
        expect(Object.keys(secret.stringData)).toContain(ref!.key);
      }
      const config = loadConfig({
        path,
        env: Object.fromEntries(requiredVariables(path).map((v) => [v, sampleSecret(v)])),
      });
      expect(config.bus).toBe('kafka');
      // `start` runs every worker in-process when ServiceNow is configured: not on the receiver.
      if (c.args[0] === 'start') expect(config.servicenow.connections).toEqual({});
      else expect(Object.keys(config.servicenow.connections)).not.toEqual([]);
    }
  });

  it('gives each receiver pod its own persistent spool volume, mounted where its config spools', () => {
    const receiver = deployments.find((d) => container(d).args[0] === 'start')!;
    expect(receiver.kind).toBe('StatefulSet');
    const claims = (receiver.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] })
      .volumeClaimTemplates;
    const mount = container(receiver).volumeMounts!.find(
      (m) => m.name === claims?.[0]?.metadata.name,
    );
    expect(mount).toBeDefined();
    const path = `${DIR}/config/receiver.yaml`;
    const config = loadConfig({
      path,
      env: Object.fromEntries(requiredVariables(path).map((v) => [v, sampleSecret(v)])),
    });
    expect(config.ingest.spool.dir?.startsWith(`${mount!.mountPath}/`)).toBe(true);
  });

  it('mounts no service-account token (changegate calls no Kubernetes API)', () => {
    const raw = readFileSync(join(ROOT, DIR, 'serviceaccount.yaml'), 'utf8');
    expect(raw).toMatch(/automountServiceAccountToken: false/);
    for (const d of deployments)
      expect(d.spec.template.spec).toMatchObject({ automountServiceAccountToken: false });
  });
});
