import { randomBytes, randomUUID } from 'node:crypto';

/** A 32-hex sys_id, as the platform generates. */
export function newSysId(): string {
  return randomBytes(16).toString('hex');
}

/** A GUID in the form `gs.generateGUID()` returns (32 hex, no dashes). */
export function newGuid(): string {
  return randomUUID().replace(/-/g, '');
}

/** `YYYY-MM-DD HH:mm:ss` in UTC: the Table API's value format for date-times. */
export function glideDateTime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/** The platform's error envelope. */
export function snError(
  message: string,
  detail: string | null,
): {
  error: { message: string; detail: string | null };
  status: 'failure';
} {
  return { error: { message, detail }, status: 'failure' };
}

/** Turn a glob (`*` = any run) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
