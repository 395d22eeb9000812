import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createSealer, type Sealer } from '../security/seal.js';

/**
 * The sealer from `security.encryptionKey`. Without one, a random key is made for this process:
 * fine for the embedded mode, but a callback sealed by one process cannot be opened by another
 * or after a restart, so it says so.
 */
let ephemeral: Sealer | undefined;

export function sealerFromConfig(config: Config, log: Logger): Sealer {
  const configured = config.security.encryptionKey;
  if (configured) return createSealer(Buffer.from(configured, 'base64'));
  // One key per process, so the receiver and the workers of one process share it.
  if (ephemeral) return ephemeral;
  if (config.bus === 'kafka') {
    log.warn(
      'security.encryptionKey (CHANGEGATE_ENCRYPTION_KEY) is not set: callback credentials are sealed with a key that dies with this process; set it when receivers and workers run apart',
    );
  }
  ephemeral = createSealer(randomBytes(32));
  return ephemeral;
}
