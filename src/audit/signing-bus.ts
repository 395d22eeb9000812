import type { Bus } from '../bus/port.js';
import { AUDIT_SIGNATURE_HEADER, signAuditLine, type AuditKey } from './signing.js';

/**
 * The bus the workers publish through: every record bound for the audit topic is signed on its
 * way out (src/audit/signing.ts), whichever worker wrote it, so the ledger worker can tell
 * changegate's own writers from anyone else who can produce to `changegate.audit`. Everything
 * else passes through unchanged.
 *
 * @example const signed = withAuditSigning(bus, config.kafka.topics.audit, auditKeyFromConfig(config))
 */
export function withAuditSigning(bus: Bus, auditTopic: string, key: AuditKey): Bus {
  return {
    kind: bus.kind,
    ensureTopics: (specs) => bus.ensureTopics(specs),
    publish: (records) =>
      bus.publish(
        records.map((r) =>
          r.topic === auditTopic
            ? { ...r, headers: { ...r.headers, [AUDIT_SIGNATURE_HEADER]: signAuditLine(key, r) } }
            : r,
        ),
      ),
    subscribe: (options) => bus.subscribe(options),
    readToEnd: (topic, onRecord) => bus.readToEnd(topic, onRecord),
    readPartitionsToEnd: (topic, partitions, onRecord) =>
      bus.readPartitionsToEnd(topic, partitions, onRecord),
    isReady: () => bus.isReady(),
    close: () => bus.close(),
  };
}
