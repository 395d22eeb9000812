import { CompactEncrypt, compactDecrypt } from 'jose';

/**
 * Seal callback credentials (Azure DevOps AuthToken, tokens a CI step hands us) before they enter
 * Kafka: compact JWE, `dir` + `A256GCM`, so only processes holding the key can open them.
 *
 * @module
 */

export interface Sealer {
  seal(secret: Record<string, string>): Promise<string>;
  /** @throws Error when the token was not sealed with this key or was tampered with. */
  open(token: string): Promise<Record<string, string>>;
}

/**
 * @param key 32 bytes (A256GCM).
 * @example const sealer = createSealer(Buffer.from(config.security.encryptionKey, 'base64'))
 */
export function createSealer(key: Uint8Array): Sealer {
  if (key.length !== 32) throw new TypeError('[changegate/security] sealing key must be 32 bytes');
  return {
    async seal(secret) {
      return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(secret)))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'changegate-callback+json' })
        .encrypt(key);
    },
    async open(token) {
      const { plaintext } = await compactDecrypt(token, key, {
        keyManagementAlgorithms: ['dir'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      const value: unknown = JSON.parse(new TextDecoder().decode(plaintext));
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        throw new Error('[changegate/security] sealed value is not an object');
      }
      return value as Record<string, string>;
    },
  };
}
