/** Fields of a 5-field cron expression (the Kubernetes CronJob and KEDA cron dialect): name, range, names. */
const FIELDS: [string, number, number, string[]?][] = [
  ["minute", 0, 59],
  ["hour", 0, 23],
  ["day of month", 1, 31],
  ["month", 1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]],
  ["day of week", 0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]],
];

/** Why `expr` is not a cron schedule a CronJob accepts, or `undefined` when it is. */
export function cronProblem(expr: string): string | undefined {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return `expected a 5-field cron expression such as '0 8 * * 1-5', got ${parts.length} field(s) in '${expr}'`;
  for (const [i, part] of parts.entries()) {
    const [field, lo, hi, names] = FIELDS[i];
    const value = (v: string): number | undefined => {
      const n = names?.indexOf(v.toUpperCase()) ?? -1;
      if (n >= 0) return n + (lo === 1 ? 1 : 0);
      return /^\d+$/.test(v) ? Number(v) : undefined;
    };
    for (const item of part.split(",")) {
      const m = /^(\*|[^/-]+(?:-[^/-]+)?)(?:\/(\d+))?$/.exec(item);
      if (!m) return `${field} '${item}' is not a value, range, list or step`;
      if (m[2] !== undefined && Number(m[2]) < 1) return `${field} step must be at least 1 in '${item}'`;
      if (m[1] === "*") continue;
      const bounds = m[1].split("-").map(value);
      if (bounds.some((b) => b === undefined || b < lo || b > hi)) return `${field} '${item}' is outside ${lo}-${hi}`;
      if (bounds.length === 2 && bounds[0]! > bounds[1]!) return `${field} range '${item}' runs backwards`;
    }
  }
  return undefined;
}

/** The values one field of a valid cron expression selects (day of week 7 is Sunday, 0). */
function fieldValues(part: string, index: number): Set<number> {
  const [, lo, hi, names] = FIELDS[index];
  const value = (v: string) => {
    const n = names?.indexOf(v.toUpperCase()) ?? -1;
    return n >= 0 ? n + (lo === 1 ? 1 : 0) : Number(v);
  };
  const out = new Set<number>();
  for (const item of part.split(",")) {
    const [range, step] = item.split("/");
    const [from, to] = range === "*" ? [lo, hi] : range!.includes("-") ? range!.split("-").map(value) : [value(range!), step ? hi : value(range!)];
    for (let v = from!; v <= to!; v += step ? Number(step) : 1) out.add(index === 4 && v === 7 ? 0 : v);
  }
  return out;
}

const MINUTES_PER_DAY = 24 * 60;

/**
 * The longest time, in seconds, between two consecutive runs of a valid cron schedule (UTC), over eight years so that
 * leap days and rare dates count. Day of month and day of week combine as cron combines them: either matches when
 * both are restricted. `Infinity` for a schedule that never runs (such as `0 0 31 2 *`).
 */
export function longestGapSeconds(expr: string): number {
  const parts = expr.trim().split(/\s+/);
  const [minutes, hours, dom, months, dow] = parts.map(fieldValues);
  const times = [...hours!].flatMap((h) => [...minutes!].map((m) => h * 60 + m)).sort((a, b) => a - b);
  let within = 0;
  for (let i = 1; i < times.length; i++) within = Math.max(within, times[i]! - times[i - 1]!);
  const domAny = parts[2]!.startsWith("*");
  const dowAny = parts[4]!.startsWith("*");
  let longest = within;
  let previousDay: number | undefined;
  let firstDay: number | undefined;
  const start = Date.UTC(2024, 0, 1) / 86_400_000;
  for (let day = start; day < start + 8 * 366; day++) {
    const d = new Date(day * 86_400_000);
    if (!months!.has(d.getUTCMonth() + 1)) continue;
    const byDom = dom!.has(d.getUTCDate());
    const byDow = dow!.has(d.getUTCDay());
    if (!(domAny && dowAny ? true : domAny ? byDow : dowAny ? byDom : byDom || byDow)) continue;
    if (previousDay !== undefined) longest = Math.max(longest, (day - previousDay) * MINUTES_PER_DAY - times.at(-1)! + times[0]!);
    firstDay ??= day;
    previousDay = day;
  }
  return firstDay === undefined ? Number.POSITIVE_INFINITY : longest * 60;
}

/**
 * How old the newest successful run of a backup job may be before it counts as stale (BackupStale, and the cloud
 * copy's and results mirror's alerts): twice the longest gap between scheduled runs, so one missed (or failed) run is
 * tolerated and a second is not. Hourly backups: 2 h; a daily job: 48 h.
 */
export function backupStaleAfterSeconds(schedule: string): number {
  return 2 * longestGapSeconds(schedule);
}
