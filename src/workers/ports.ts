import type { Callback } from '../events/common.js';
import type { ChangeSnapshot } from '../events/gate.js';

/**
 * What the gate worker needs of ServiceNow: read a CR once, move it to Implement, leave a note.
 * `servicenow-ports.ts` implements it over the REST client; tests may use the sandbox.
 */
export interface GateServiceNow {
  getChange(number: string): Promise<ChangeSnapshot | undefined>;
  moveToImplement(sysId: string): Promise<void>;
  addWorkNote(sysId: string, text: string): Promise<void>;
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
}
