import { z } from 'zod';
import { Key256Schema, SECOND } from './primitives.js';

/**
 * The audit ledger (`audit:` in the YAML): the key that signs it and where its checkpoints go.
 *
 * @module
 */
export const AuditSchema = z
  .object({
    /**
     * base64 of 32 bytes (`CHANGEGATE_AUDIT_KEY`): HMAC-SHA256 key that signs audit lines at their
     * writer, ledger records and checkpoints. Kept outside Kafka, so write access to the topics
     * is not enough to forge or re-chain the ledger. Default: derived from
     * `security.encryptionKey` (HKDF); set its own so the export does not need the sealing key.
     */
    key: Key256Schema.optional(),
    /** How often the ledger worker writes a signed checkpoint (when a chain moved). */
    checkpointIntervalMs: z
      .number()
      .int()
      .positive()
      .default(60 * SECOND),
    /**
     * Also write this replica's checkpoints (per ledger partition it owned, every chain) to this
     * file, replaced atomically: one file per replica, copied to write-once storage, where
     * whoever can rewrite Kafka cannot reach.
     */
    checkpointFile: z.string().min(1).optional(),
  })
  .prefault({});

export type AuditConfig = z.infer<typeof AuditSchema>;
