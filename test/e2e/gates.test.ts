import { afterAll, beforeAll, describe } from 'vitest';
import { hasKafka, kafkaBrokers } from '../support/kafka.js';
import type { ProcessStack } from '../support/process-stack/stack.js';
import { startE2eStack } from './support/e2e-stack.js';
import { latencyScenario } from './scenarios/latency.js';
import { providerGateScenarios } from './scenarios/provider-gates.js';
import { robustnessScenarios } from './scenarios/robustness.js';

/**
 * Change requests and gates end to end on real Kafka: ServiceNow sandbox, CI emulator, receiver
 * and change+gate worker as four processes. One file, one process set, in this order: the
 * provider scenarios (concurrent), the latency measurement (alone), the robustness scenarios
 * (the worker restart last). One file because the workers' consumer group ids are fixed
 * (`changegate-change`, `changegate-gate`): worker processes of two files on one broker would
 * rebalance each other's groups and disturb the measurement.
 */

if (!hasKafka()) console.log('[e2e] gates: skipped, no Kafka broker in this run');

let stack: ProcessStack | undefined;
const current = (): ProcessStack => {
  if (!stack) throw new Error('[e2e] the stack did not start');
  return stack;
};

describe.skipIf(!hasKafka())('change requests and gates across processes', () => {
  beforeAll(async () => {
    stack = await startE2eStack({ name: 'gates', brokers: kafkaBrokers() });
  });
  afterAll(async () => stack?.close());

  providerGateScenarios(current);
  latencyScenario(current);
  robustnessScenarios(current);
});
