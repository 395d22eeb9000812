/**
 * A record value (or file) as JSON, or undefined when it is none: the ledger's readers then say
 * what they expected (an audit line, a checkpoint) through their schemas.
 */
export function recordJson(value: Buffer | null): unknown {
  if (value === null) return undefined;
  try {
    return JSON.parse(value.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
