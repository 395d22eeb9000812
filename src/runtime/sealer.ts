import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createSealer, type Sealer } from '../security/seal.js';

/**
 * The sealer from `security.encryptionKey`. Without one, the embedded mode makes a random key
 * for this process and says so; with Kafka a key is required (receivers and workers run apart,
 * and a callback sealed by one process must open in another and after a restart).
 */
let ephemeral: Sealer | undefined;

export function sealerFromConfig(config: Config, log: Logger): Sealer {
  const configured = config.security.encryptionKey;
  if (configured) return createSealer(Buffer.from(configured, 'base64'));
  // One key per process, so the receiver and the workers of one process share it.
  if (ephemeral) return ephemeral;
  if (config.bus === 'kafka') {
    // The config schema refuses this already; a caller that built a Config by hand still must not
    // seal with a key no other process has.
    throw new Error(
      '[changegate/security] security.encryptionKey (CHANGEGATE_ENCRYPTION_KEY) is required with the Kafka bus',
    );
  }
  log.info(
    'embedded mode: generated an encryption key for this process (callback credentials sealed with it die with the process)',
  );
  ephemeral = createSealer(randomBytes(32));
  return ephemeral;
}
