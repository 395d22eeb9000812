import { CrStateSchema, type CrState } from '../../gate/state.js';
import { decodeEntry } from '../stateful/changelog.js';

/**
 * A gate changelog record read back outside the gate worker: the state kit's envelope around
 * the CR state.
 *
 * @module
 */

/**
 * A record of the gate changelog as the CR state it holds: null for a tombstone (the CR is
 * forgotten), undefined for a record that is not a gate state. For readers besides the gate
 * worker (status page, `changegate reconcile`, recovery), which see the state kit's envelope.
 */
export function crStateOfRecord(value: Buffer | null): CrState | null | undefined {
  const decoded = decodeEntry(CrStateSchema, value);
  if (!decoded.ok) return undefined;
  return decoded.entry?.state ?? null;
}

/**
 * The state a gate changelog record holds, unparsed (null for a tombstone), for a reader with
 * a lenient schema of its own (the status page reads what it can show).
 */
export function crStateValueOfRecord(value: Buffer | null): unknown {
  if (value === null) return null;
  const envelope: unknown = JSON.parse(value.toString('utf8'));
  return envelope && typeof envelope === 'object' && 'state' in envelope
    ? envelope.state
    : undefined;
}
