import { describe, expect, it } from "vitest";
import { backupName, parseBackupName } from "../src/backup/backup";
import { DEFAULT_POLICY, isoWeekOf, type RetentionPolicy, selectRetained } from "../src/backup/retention";

const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");

/** Hourly backups on the hour, oldest first, ending at `last`. */
function hourly(last: string, count: number): Date[] {
  const end = at(last).getTime();
  return Array.from({ length: count }, (_, i) => new Date(end - (count - 1 - i) * HOUR));
}

function kept(timestamps: Date[], policy: RetentionPolicy, now: string): string[] {
  return [...selectRetained(timestamps, policy, at(now))].map(iso).sort();
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("selectRetained", () => {
  it("keeps nothing of nothing", () => {
    expect(selectRetained([], DEFAULT_POLICY, at("2026-11-28T01:00:00Z")).size).toBe(0);
  });

  it("keeps exactly 24 hourly, 7 daily, 4 weekly and 12 monthly of 60 days of hourly backups", () => {
    // 2026-11-28 is a Saturday; its ISO week began on Monday 2026-11-23.
    const backups = hourly("2026-11-28T01:00:00Z", 60 * 24);
    expect(iso(backups[0]!)).toBe("2026-09-29T02:00:00Z");
    const hours = hourly("2026-11-28T01:00:00Z", 24).map(iso);
    expect(kept(backups, DEFAULT_POLICY, "2026-11-28T01:00:00Z")).toEqual(
      [
        ...hours, // 2026-11-27T02:00 … 2026-11-28T01:00; also the newest of 11-28 and 11-27 (23:00), of this week and of November
        "2026-11-26T23:00:00Z",
        "2026-11-25T23:00:00Z",
        "2026-11-24T23:00:00Z",
        "2026-11-23T23:00:00Z",
        "2026-11-22T23:00:00Z", // the seventh day; also the newest of the week ending Sunday 11-22
        "2026-11-15T23:00:00Z",
        "2026-11-08T23:00:00Z", // the fourth week
        "2026-10-31T23:00:00Z",
        "2026-09-30T23:00:00Z", // months: only three have any backup
      ].sort(),
    );
  });

  it("keeps the newest backup of a period, not the first", () => {
    const backups = ["2026-11-28T00:05:00Z", "2026-11-28T00:55:00Z", "2026-11-28T00:30:00Z"].map(at);
    expect(kept(backups, { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, "2026-11-28T01:00:00Z")).toEqual(["2026-11-28T00:55:00Z"]);
  });

  it("counts periods that hold a backup, so an outage does not expire older history", () => {
    // Two days of hourly backups, a ten-day outage, then three hours of backups again.
    const before = hourly("2026-11-14T23:00:00Z", 48);
    const after = hourly("2026-11-25T02:00:00Z", 3);
    const policy = { hourly: 5, daily: 3, weekly: 2, monthly: 1 };
    expect(kept([...before, ...after], policy, "2026-11-25T02:30:00Z")).toEqual(
      [
        "2026-11-14T22:00:00Z",
        "2026-11-14T23:00:00Z", // hourly 4 and 5 reach back across the gap; also the newest of 11-14 and of its week
        "2026-11-13T23:00:00Z", // the third day with a backup
        "2026-11-25T00:00:00Z",
        "2026-11-25T01:00:00Z",
        "2026-11-25T02:00:00Z",
      ].sort(),
    );
  });

  it("puts a backup taken exactly on a boundary into the new period", () => {
    // Monday 00:00 starts a new hour, day and ISO week; 1 November 00:00 a new month.
    const policy = { hourly: 1, daily: 1, weekly: 2, monthly: 1 };
    const week = ["2026-11-22T23:59:59Z", "2026-11-23T00:00:00Z"].map(at);
    expect(kept(week, policy, "2026-11-23T00:00:00Z")).toEqual(["2026-11-22T23:59:59Z", "2026-11-23T00:00:00Z"]);
    expect(kept(week, { ...policy, weekly: 1 }, "2026-11-23T00:00:00Z")).toEqual(["2026-11-23T00:00:00Z"]);
    const month = ["2026-10-31T23:59:59Z", "2026-11-01T00:00:00Z"].map(at);
    expect(kept(month, { hourly: 1, daily: 1, weekly: 1, monthly: 2 }, "2026-11-01T00:00:00Z")).toEqual([
      "2026-10-31T23:59:59Z",
      "2026-11-01T00:00:00Z",
    ]);
    // 2026-11-01 is a Sunday, so both fall into the same ISO week: only the month tier keeps the older one.
    expect(kept(month, { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, "2026-11-01T00:00:00Z")).toEqual(["2026-11-01T00:00:00Z"]);
  });

  it("does not depend on the input's order", () => {
    const backups = hourly("2026-11-28T01:00:00Z", 40 * 24);
    const expected = kept(backups, DEFAULT_POLICY, "2026-11-28T01:00:00Z");
    for (const seed of [1, 7, 42]) expect(kept(shuffled(backups, seed), DEFAULT_POLICY, "2026-11-28T01:00:00Z")).toEqual(expected);
    expect(kept([...backups].reverse(), DEFAULT_POLICY, "2026-11-28T01:00:00Z")).toEqual(expected);
  });

  it("keeps backups dated after now, and they take no period's place", () => {
    const backups = [...hourly("2026-11-28T01:00:00Z", 3), at("2026-11-28T05:00:00Z"), at("2026-11-28T01:00:00.001Z")];
    expect(kept(backups, { hourly: 1, daily: 1, weekly: 1, monthly: 1 }, "2026-11-28T01:00:00Z")).toEqual([
      "2026-11-28T01:00:00.001Z",
      "2026-11-28T01:00:00Z", // exactly now is not the future
      "2026-11-28T05:00:00Z",
    ]);
  });

  it("returns a subset of its input, the same objects, no larger than the policy allows", () => {
    const backups = hourly("2026-11-28T01:00:00Z", 500 * 24);
    const result = selectRetained(backups, DEFAULT_POLICY, at("2026-11-28T01:00:00Z"));
    for (const d of result) expect(backups).toContain(d);
    expect(result.size).toBeLessThanOrEqual(24 + 7 + 4 + 12);
    // 500 days reach back past twelve months, so the oldest kept is the newest of December 2025.
    expect(iso([...result].sort((a, b) => a.getTime() - b.getTime())[0]!)).toBe("2025-12-31T23:00:00Z");
  });

  it("rejects invalid dates", () => {
    expect(() => selectRetained([new Date("nope")], DEFAULT_POLICY, at("2026-11-28T01:00:00Z"))).toThrow(/invalid date/);
  });
});

describe("isoWeekOf", () => {
  it.each([
    ["2026-01-01T00:00:00Z", "2026-W01"], // a Thursday: week 1
    ["2026-12-31T23:59:59Z", "2026-W53"],
    ["2027-01-01T00:00:00Z", "2026-W53"], // a Friday still in the old year's last week
    ["2027-01-04T00:00:00Z", "2027-W01"],
    ["2024-12-30T00:00:00Z", "2025-W01"], // a Monday already in the next year's first week
    ["2026-11-22T23:59:59Z", "2026-W47"],
    ["2026-11-23T00:00:00Z", "2026-W48"],
  ])("%s is in %s", (d, w) => {
    expect(isoWeekOf(at(d))).toBe(w);
  });
});

describe("backup names", () => {
  it("round-trip through a UTC timestamp to the second", () => {
    expect(backupName(at("2026-11-28T01:00:00.789Z"))).toBe("2026-11-28T01-00-00Z.dump");
    expect(parseBackupName("2026-11-28T01-00-00Z.dump")?.toISOString()).toBe("2026-11-28T01:00:00.000Z");
  });

  it.each(["2026-02-30T00-00-00Z.dump", "2026-11-28T01:00:00Z.dump", "2026-11-28T01-00-00Z.dump.partial-abc", "notes.txt", "2026-11-28.dump"])(
    "%s is not a backup",
    (name) => {
      expect(parseBackupName(name)).toBeUndefined();
    },
  );
});
