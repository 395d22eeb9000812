/**
 * Find a change request number a pipeline names explicitly: a deployment input or CI variable
 * (`CHANGE_NUMBER=CHG0012345`), a commit trailer (`Change: CHG0012345`) or a label.
 * ServiceNow change numbers are `CHG` followed by digits.
 */
const CHANGE_NUMBER = /\bCHG\d{7,10}\b/;
const TRAILER = /^(?:Change|Change-Request|ServiceNow-Change):\s*(CHG\d{7,10})\s*$/im;

export function findChangeNumber(...texts: (string | null | undefined)[]): string | undefined {
  for (const text of texts) {
    if (!text) continue;
    const trailer = TRAILER.exec(text);
    if (trailer) return trailer[1];
  }
  for (const text of texts) {
    if (!text) continue;
    const plain = CHANGE_NUMBER.exec(text);
    if (plain) return plain[0];
  }
  return undefined;
}
