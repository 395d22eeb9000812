/**
 * Fault injection: which request (method + path glob) gets which failure, how often.
 *
 * @module
 */
import type { ActiveFault, FaultControl, FaultSpec } from './types.js';
import { globToRegExp } from './util.js';

export const FAULT_KINDS = [
  '429',
  '500',
  '503',
  'latency',
  'timeout',
  'reset-after-commit',
  'drop-outbound',
] as const;

/** In-memory fault table; `take` consumes one hit of the first matching fault. */
export class Faults implements FaultControl {
  private faults: ActiveFault[] = [];
  private seq = 0;

  constructor(private readonly random: () => number = Math.random) {}

  inject(spec: FaultSpec): string {
    if (!(FAULT_KINDS as readonly string[]).includes(spec.kind)) {
      throw new TypeError(
        `[changegate/sandbox/servicenow] unknown fault kind: ${String(spec.kind)}`,
      );
    }
    const id = `fault-${++this.seq}`;
    this.faults.push({ ...spec, id, hits: 0 });
    return id;
  }

  clear(id?: string): void {
    this.faults = id === undefined ? [] : this.faults.filter((f) => f.id !== id);
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /**
   * The fault to apply to this request, if any. `outbound` selects drop-outbound faults (matched
   * against the target URL) instead of inbound ones.
   */
  take(method: string, path: string, outbound = false): ActiveFault | undefined {
    for (const fault of this.faults) {
      if ((fault.kind === 'drop-outbound') !== outbound) continue;
      const m = (fault.method ?? '*').toUpperCase();
      if (m !== '*' && m !== method.toUpperCase()) continue;
      if (!globToRegExp(fault.path ?? '*').test(path)) continue;
      if (fault.probability !== undefined && this.random() >= fault.probability) continue;
      fault.hits += 1;
      if (fault.count !== undefined && fault.hits >= fault.count) {
        this.faults = this.faults.filter((f) => f !== fault);
      }
      return { ...fault };
    }
    return undefined;
  }
}
