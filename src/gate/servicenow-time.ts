/**
 * ServiceNow's stored date-time value is `YYYY-MM-DD HH:mm:ss` in UTC (the Table API's
 * non-display value). Returns undefined for an empty or unreadable value.
 */
export function parseServiceNowTime(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (!m) {
    const iso = new Date(value);
    return Number.isNaN(iso.getTime()) ? undefined : iso;
  }
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function formatServiceNowTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
