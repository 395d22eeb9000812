// Placeholder replaced by the Kafka harness (issue A): provides KAFKA_BROKERS to tests.
export default function setup(): void {}
