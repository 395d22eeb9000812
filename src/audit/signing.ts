import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BusRecord } from '../bus/port.js';
import type { Config } from '../config/schema.js';

/**
 * Signatures of the audit trail: HMAC-SHA256 under one 32-byte key kept outside Kafka
 * (`audit.key`, else derived from `security.encryptionKey`).
 *
 * Why HMAC and not Ed25519: an audit line is signed where it is written, inside `publish` of
 * every worker, synchronously, and the processes that sign (writers, ledger worker) are the
 * processes that verify — one symmetric secret they already hold serves both, at a few µs a
 * line. The cost: whoever verifies can also sign, so the signatures stop an outsider with
 * Kafka access, not a holder of the key; against that, the checkpoints kept in write-once
 * storage are the anchor (docs/security.md).
 *
 * Each kind of message has its own prefix (domain separation): a valid signature of one kind
 * never verifies as another.
 *
 * @module
 */

export type AuditKey = Buffer;

/** Header carrying a writer's signature on a `changegate.audit` record. */
export const AUDIT_SIGNATURE_HEADER = 'changegate-audit-signature';

const DOMAIN = {
  line: 'changegate audit line v1\n',
  record: 'changegate ledger record v1\n',
  checkpoint: 'changegate ledger checkpoint v1\n',
} as const;

let ephemeral: AuditKey | undefined;

/**
 * The audit key of this process. Without `audit.key`, HKDF-SHA256 of `security.encryptionKey`
 * (a key of its own, not the sealing key itself); the embedded mode without either makes one
 * per process (its ledger lives in memory and dies with it anyway).
 * @throws Error with Kafka and neither key (the config schema refuses that already).
 */
export function auditKeyFromConfig(config: Pick<Config, 'audit' | 'security' | 'bus'>): AuditKey {
  if (config.audit.key) return Buffer.from(config.audit.key, 'base64');
  const sealing = config.security.encryptionKey;
  if (sealing) {
    return Buffer.from(
      hkdfSync('sha256', Buffer.from(sealing, 'base64'), '', 'changegate audit ledger v1', 32),
    );
  }
  if (config.bus === 'kafka') {
    throw new Error(
      '[changegate/audit] audit.key or security.encryptionKey is required with Kafka',
    );
  }
  return (ephemeral ??= randomBytes(32));
}

function mac(key: AuditKey, domain: keyof typeof DOMAIN, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', key).update(DOMAIN[domain]);
  for (const part of parts) h.update(part);
  return h.digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The writer's signature over an audit record's key and exact value bytes. */
export function signAuditLine(key: AuditKey, record: Pick<BusRecord, 'key' | 'value'>): string {
  return mac(key, 'line', `${record.key ?? ''}\n`, record.value ?? Buffer.alloc(0));
}

export function verifyAuditLine(
  key: AuditKey,
  record: Pick<BusRecord, 'key' | 'value' | 'headers'>,
): boolean {
  const offered = record.headers[AUDIT_SIGNATURE_HEADER];
  return offered !== undefined && same(offered, signAuditLine(key, record));
}

/** Signature of canonical text (a ledger record's link, a checkpoint body). */
export function signText(key: AuditKey, kind: 'record' | 'checkpoint', text: string): string {
  return mac(key, kind, text);
}

export function verifyText(
  key: AuditKey,
  kind: 'record' | 'checkpoint',
  text: string,
  offered: string | undefined,
): boolean {
  return offered !== undefined && same(offered, signText(key, kind, text));
}
