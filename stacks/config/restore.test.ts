import { describe, expect, it } from "vitest";
import { longestGapSeconds } from "./cron";
import { parsePlatformConfig } from "./index";
import { observabilityRuleArgs } from "../observability";
import { problems, stackRaw } from "./test-support";

describe("restore verification config", () => {
  it("defaults to a daily run after the night's jobs and 26 h for the newest verified backup", () => {
    expect(parsePlatformConfig(stackRaw("prod")).restoreVerification).toEqual({
      schedule: "30 4 * * *",
      maxVerifiedBackupAgeHours: 26,
      deadlineMinutes: 60,
      scratchStorage: "20Gi",
    });
    const raw = stackRaw("dr");
    raw.restoreVerification = { schedule: "0 */12 * * *", maxVerifiedBackupAgeHours: 14 };
    expect(parsePlatformConfig(raw).restoreVerification).toMatchObject({ schedule: "0 */12 * * *", maxVerifiedBackupAgeHours: 14 });
  });

  it.each([
    [{ schedule: "every day" }, "restoreVerification.schedule: expected a 5-field cron expression such as '0 8 * * 1-5', got 2 field(s) in 'every day'"],
    [{ schedule: "61 4 * * *" }, "restoreVerification.schedule: minute '61' is outside 0-59"],
    [{ maxBackupAgeHours: 2 }, "restoreVerification.maxBackupAgeHours: no longer read: BackupStale reads the backup job's own runs"],
    [{ maxVerifiedBackupAgeHours: -3 }, "restoreVerification.maxVerifiedBackupAgeHours: expected a number of hours above 0"],
    [{ scratchStorage: "lots" }, "restoreVerification.scratchStorage: expected a Kubernetes quantity"],
    [{ scheduel: "0 4 * * *" }, "restoreVerification.scheduel: unknown key"],
  ])("refuses %j, naming the key", (bad, message) => {
    const raw = stackRaw("prod");
    raw.restoreVerification = bad;
    expect(problems(raw).join("\n")).toContain(message);
  });
});

describe("BackupStale's threshold follows backups.schedule", () => {
  const staleAfter = (schedule?: string) => {
    const raw = stackRaw("prod");
    if (schedule) raw.backups = { ...raw.backups, schedule };
    return observabilityRuleArgs(parsePlatformConfig(raw)).database!.backupStaleAfterSeconds;
  };

  it("allows twice the longest gap between runs: 2 h for the hourly default, 48 h for a daily backup", () => {
    expect(staleAfter()).toBe(2 * 3600);
    expect(staleAfter("15 2 * * *")).toBe(48 * 3600);
    expect(staleAfter("0 */6 * * *")).toBe(12 * 3600);
  });

  it.each([
    ["0 * * * *", 3600],
    ["*/15 * * * *", 900],
    ["5/20 * * * *", 20 * 60],
    ["0 9-17 * * 1-5", 64 * 3600], // Friday 17:00 to Monday 09:00
    ["30 3 * * SUN", 7 * 86400],
    ["0 0 1 * *", 31 * 86400],
    ["0 0 1,15 * 1", 7 * 86400], // the 1st, the 15th or a Monday, as cron ORs the two day fields
    ["0 0 29 2 *", 4 * 365 * 86400 + 86400], // leap days only
  ])("%s: longest gap %i s", (schedule, seconds) => {
    expect(longestGapSeconds(schedule)).toBe(seconds);
  });

  it("refuses a schedule that never runs, naming the key", () => {
    const raw = stackRaw("prod");
    raw.backups = { ...raw.backups, schedule: "0 0 31 2 *" };
    expect(problems(raw).join("\n")).toContain("backups.schedule: never runs (no date matches it)");
  });
});
