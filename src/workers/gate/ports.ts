import type { Callback } from '../../events/common.js';
import type { Approver, ChangeSnapshot } from '../../events/gate.js';

/**
 * What the gate worker needs of ServiceNow: read a CR once, move it to Implement, leave a note,
 * and read who approved a CR once when its gate releases.
 * `servicenow-ports.ts` implements it over the REST client; tests may use the sandbox.
 */
export interface GateServiceNow {
  getChange(number: string): Promise<ChangeSnapshot | undefined>;
  /** `state`: the CR's state as the gate knows it (saves a read). */
  moveToImplement(sysId: string, state?: string): Promise<void>;
  addWorkNote(sysId: string, text: string): Promise<void>;
  /** The approvers of the CR's approved `sysapproval_approver` records (empty when none). */
  getApprovers(sysId: string): Promise<Approver[]>;
}

export interface GateCallbacks {
  decide(
    callback: Callback,
    decision: {
      outcome: 'approve' | 'reject';
      comment: string;
      changeNumber?: string;
      gateId?: string;
    },
  ): Promise<{ status: 'done' | 'already-decided'; httpStatus: number }>;
  /** A status line on the waiting pipeline; false where the provider has none. */
  comment?(callback: Callback, text: string): Promise<boolean>;
}
