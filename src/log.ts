import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear in a log object. Secrets must never reach logs; this
 * is the net under the rule, not the rule (code should not log secrets in the first place).
 */
export const REDACT_PATHS = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'headers["x-gitlab-token"]',
  'headers["webhook-signature"]',
  'headers.authtoken',
  'headers.AuthToken',
  '*.password',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.apiToken',
  '*.privateKey',
  '*.authToken',
  '*.access_token',
  '*.refresh_token',
  '*.encryptionKey',
];

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

/** JSON logs (pino) with secret redaction. */
export function createLogger({
  level = 'info',
  name = 'changegate',
  destination,
}: CreateLoggerOptions = {}): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
