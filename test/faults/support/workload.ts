import { randomUUID } from 'node:crypto';
import type { RawRequest } from '../../../src/receivers/types.js';
import { sign } from '../../../src/security/standard-webhooks.js';
import { serviceHookRequest } from '../../fixtures/azure-devops-request.js';
import { fixture } from '../../fixtures/standard-webhook-request.js';
import { githubFixture, githubRequest } from '../../fixtures/github-request.js';
import { gitlabDocPayload } from '../../fixtures/gitlab-docs.js';
import { gitlabRequest } from '../../fixtures/gitlab-request.js';
import { ENV } from '../../e2e/support/e2e-stack.js';
import { STACK_SECRETS } from '../../support/process-stack/secrets.js';
import { PROVIDERS, pendingGate, type GateDeployment } from '../../e2e/support/deployments.js';
import { INCIDENT_PROJECT_PREFIX, UNCONTROLLED_ENV, type FaultStack } from './fault-stack.js';

/**
 * What the driver sends: deployments that wait at a gate (all four providers), pipeline failures
 * that file incidents, and filler traffic no worker acts on beyond reading it. Each delivery is
 * built just before its first send (so Standard-Webhooks timestamps are fresh) and keeps its
 * delivery id across every retry, like a real sender.
 *
 * @module
 */

export interface WorkloadSize {
  gatesPerProvider: number;
  /** Pipelines whose failures file incidents, and failures sent per pipeline. */
  failingPipelines: number;
  failuresPerPipeline: number;
  filler: number;
}

export const SIZES: Record<'ci' | 'large', WorkloadSize> = {
  ci: { gatesPerProvider: 8, failingPipelines: 6, failuresPerPipeline: 5, filler: 200 },
  large: { gatesPerProvider: 100, failingPipelines: 20, failuresPerPipeline: 25, filler: 2500 },
};

export type DeliveryKind = 'gate' | 'failure' | 'filler';

export interface Delivery {
  kind: DeliveryKind;
  provider: string;
  route: string;
  request: RawRequest;
  /** Set for `gate` deliveries. */
  gate?: GateDeployment;
  /** Set for `failure` deliveries: the incident fingerprint it counts toward. */
  fingerprint?: string;
}

/** A delivery not built yet: `build()` registers what it needs (a pending gate) and signs. */
export interface PlannedDelivery {
  kind: DeliveryKind;
  build(): Promise<Delivery>;
}

const enc = (text: string) => new TextEncoder().encode(text);

/** A `changegate` webhook (Jenkins route), signed as a Standard Webhook. */
function jenkinsDelivery(kind: DeliveryKind, body: unknown): Delivery {
  const text = JSON.stringify(body);
  return {
    kind,
    provider: 'jenkins',
    route: '/hooks/jenkins',
    request: {
      headers: new Headers({
        'content-type': 'application/json',
        ...sign(STACK_SECRETS.whsec, `msg_${randomUUID()}`, new Date(), text),
      }),
      body: enc(text),
      params: {},
    },
  };
}

/** `<provider>/<project>/<pipeline>/pipeline`, as the incident worker fingerprints it. */
export const failureFingerprint = (n: number) =>
  `jenkins/${INCIDENT_PROJECT_PREFIX}${n}/main/pipeline`;

function failure(n: number): Delivery {
  const run = randomUUID().slice(0, 8);
  return {
    ...jenkinsDelivery('failure', {
      type: 'pipeline.failed',
      timestamp: new Date().toISOString(),
      data: {
        project: `${INCIDENT_PROJECT_PREFIX}${n}`,
        pipeline: 'main',
        run: { id: `main-${run}`, url: `https://ci.acme.example/job/main/${run}/` },
        commit: { sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', ref: 'refs/heads/main' },
        failures: [{ name: 'Deploy' }],
      },
    }),
    fingerprint: failureFingerprint(n),
  };
}

const FILLERS: readonly (() => Delivery)[] = [
  () => {
    const deliveryId = randomUUID();
    // The recorded payload plus one added key naming the delivery: the receiver dedupes GitHub
    // on the signed bytes, so the same body under a new id would be a replay (answered 200).
    const payload = {
      ...githubFixture('workflow_run.completed'),
      changegate_test_delivery: deliveryId,
    };
    return {
      kind: 'filler',
      provider: 'github',
      route: '/hooks/github',
      request: githubRequest('workflow_run', payload, { secret: STACK_SECRETS.github, deliveryId }),
    };
  },
  () => ({
    kind: 'filler',
    provider: 'gitlab',
    route: '/hooks/gitlab',
    request: gitlabRequest('Pipeline Hook', gitlabDocPayload('pipeline'), {
      token: STACK_SECRETS.gitlab,
      idempotencyKey: randomUUID(),
    }),
  }),
  () => ({
    kind: 'filler',
    provider: 'azure-devops',
    route: '/hooks/azure-devops',
    request: serviceHookRequest(
      { ...fixture<Record<string, unknown>>('azure-devops/build-complete.json'), id: randomUUID() },
      {
        authorization: `Basic ${Buffer.from(`${STACK_SECRETS.azureUser}:${STACK_SECRETS.azurePassword}`).toString('base64')}`,
      },
    ),
  }),
  () =>
    jenkinsDelivery('filler', {
      type: 'deployment.requested',
      timestamp: new Date().toISOString(),
      data: {
        project: 'acme/payments',
        environment: UNCONTROLLED_ENV,
        deploymentId: `staging-${randomUUID().slice(0, 8)}`,
        run: { id: randomUUID().slice(0, 8) },
      },
    }),
];

/** Shuffle in place (Fisher–Yates) so kinds and providers interleave under the faults. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Every delivery of one run, in a random order. */
export function planWorkload(stack: FaultStack, size: WorkloadSize): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  for (const provider of PROVIDERS) {
    for (let i = 0; i < size.gatesPerProvider; i++) {
      planned.push({
        kind: 'gate',
        build: async () => {
          const gate = await pendingGate(stack, provider, ENV.production);
          return { kind: 'gate', provider, route: gate.route, request: gate.request, gate };
        },
      });
    }
  }
  for (let n = 1; n <= size.failingPipelines; n++) {
    for (let i = 0; i < size.failuresPerPipeline; i++) {
      planned.push({ kind: 'failure', build: () => Promise.resolve(failure(n)) });
    }
  }
  for (let i = 0; i < size.filler; i++) {
    const make = FILLERS[i % FILLERS.length]!;
    planned.push({ kind: 'filler', build: () => Promise.resolve(make()) });
  }
  return shuffle(planned);
}
