/**
 * SARIF 2.1.0 results (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html): counts
 * by level and the most severe findings, for the summary work note.
 *
 * Level resolution follows the spec (§3.27.10): a result's own `level`, else the level of its
 * rule's `defaultConfiguration`, else `warning`; results whose `kind` is not `fail` have level
 * `none`. Suppressed results (§3.27.23, status accepted) are counted apart, not as findings.
 *
 * @module
 */

export const SARIF_LEVELS = ['error', 'warning', 'note', 'none'] as const;
export type SarifLevel = (typeof SARIF_LEVELS)[number];

export interface SarifFinding {
  level: SarifLevel;
  ruleId: string;
  message: string;
  /** `uri:line` of the first location, when given. */
  location?: string;
  tool?: string;
}

export interface SarifResult {
  counts: Record<SarifLevel, number>;
  suppressed: number;
  /** error first, then warning, note; in report order within a level. */
  findings: SarifFinding[];
  tools: string[];
}

const MAX_MESSAGE = 300;
const MAX_FINDINGS_KEPT = 1000;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const isLevel = (v: unknown): v is SarifLevel => SARIF_LEVELS.includes(v as SarifLevel);

function short(text: string): string {
  const line = text.trim().replace(/\s+/g, ' ');
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/**
 * Parse a SARIF log.
 * @returns undefined when the text is not JSON with a `runs` array (e.g. a report cut short).
 */
export function parseSarif(text: string): SarifResult | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const runs = obj(doc).runs;
  if (!Array.isArray(runs)) return undefined;
  const counts: Record<SarifLevel, number> = { error: 0, warning: 0, note: 0, none: 0 };
  const findings: SarifFinding[] = [];
  const tools: string[] = [];
  let suppressed = 0;

  for (const run of runs.map(obj)) {
    const driver = obj(obj(run.tool).driver);
    const tool = str(driver.name);
    if (tool && !tools.includes(tool)) tools.push(tool);
    const rules = arr(driver.rules).map(obj);
    const ruleLevel = new Map<string, SarifLevel>();
    rules.forEach((rule) => {
      const level = obj(rule.defaultConfiguration).level;
      if (str(rule.id) && isLevel(level)) ruleLevel.set(rule.id as string, level);
    });

    for (const result of arr(run.results).map(obj)) {
      const accepted = arr(result.suppressions)
        .map(obj)
        .some((s) => s.status === undefined || s.status === 'accepted');
      if (accepted) {
        suppressed++;
        continue;
      }
      const ruleIndex = typeof result.ruleIndex === 'number' ? result.ruleIndex : -1;
      const ruleId =
        str(result.ruleId) ?? str(obj(result.rule).id) ?? str(rules[ruleIndex]?.id) ?? '(no rule)';
      const kind = str(result.kind) ?? 'fail';
      const level: SarifLevel =
        kind !== 'fail'
          ? 'none'
          : isLevel(result.level)
            ? result.level
            : (ruleLevel.get(ruleId) ?? 'warning');
      counts[level]++;
      if (level === 'none' || findings.length >= MAX_FINDINGS_KEPT) continue;
      const message = obj(result.message);
      const physical = obj(obj(arr(result.locations)[0]).physicalLocation);
      const uri = str(obj(physical.artifactLocation).uri);
      const line = obj(physical.region).startLine;
      findings.push({
        level,
        ruleId,
        message: short(str(message.text) ?? str(message.markdown) ?? str(message.id) ?? ''),
        ...(uri ? { location: typeof line === 'number' ? `${uri}:${line}` : uri } : {}),
        ...(tool ? { tool } : {}),
      });
    }
  }
  const rank = (l: SarifLevel) => SARIF_LEVELS.indexOf(l);
  findings.sort((a, b) => rank(a.level) - rank(b.level));
  return { counts, suppressed, findings, tools };
}
