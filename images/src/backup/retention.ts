/** How many periods of each kind keep a backup (grandfather-father-son). */
export interface RetentionPolicy {
  readonly hourly: number;
  readonly daily: number;
  readonly weekly: number;
  readonly monthly: number;
}

/** The backup policy: a day of hourlies, a week of dailies, a month of weeklies, a year of monthlies. */
export const DEFAULT_POLICY: RetentionPolicy = { hourly: 24, daily: 7, weekly: 4, monthly: 12 };

const hourOf = (d: Date) => d.toISOString().slice(0, 13);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const monthOf = (d: Date) => d.toISOString().slice(0, 7);

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday), in UTC. */
export function isoWeekOf(d: Date): string {
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides which year the week belongs to.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/**
 * The backups to keep: for each tier, the newest backup of each of the `policy[tier]` most recent periods
 * (UTC hours, days, ISO weeks, months) that hold a backup at or before `now`. Periods without a backup are
 * skipped rather than counted, so an outage never makes the pruner reach into older history: the tiers
 * still hold as many backups as the policy promises. Backups dated after `now` (a clock that ran ahead)
 * are always kept, since their age cannot be judged. The input's order does not matter; the result holds
 * the very `Date` objects given.
 */
export function selectRetained(timestamps: readonly Date[], policy: RetentionPolicy, now: Date): Set<Date> {
  const keep = new Set<Date>();
  const past: Date[] = [];
  for (const t of timestamps) {
    if (Number.isNaN(t.getTime())) throw new Error("selectRetained: invalid date");
    if (t.getTime() > now.getTime()) keep.add(t);
    else past.push(t);
  }
  past.sort((a, b) => b.getTime() - a.getTime());
  const tiers: Array<[number, (d: Date) => string]> = [
    [policy.hourly, hourOf],
    [policy.daily, dayOf],
    [policy.weekly, isoWeekOf],
    [policy.monthly, monthOf],
  ];
  for (const [count, periodOf] of tiers) {
    let kept = 0;
    let lastPeriod: string | undefined;
    for (const t of past) {
      if (kept >= count) break;
      const period = periodOf(t);
      // Newest first, so the first backup seen in a period is that period's newest.
      if (period === lastPeriod) continue;
      lastPeriod = period;
      keep.add(t);
      kept++;
    }
  }
  return keep;
}
