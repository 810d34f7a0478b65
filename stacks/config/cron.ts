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
