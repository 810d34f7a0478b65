import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { problems, stackRaw } from "./test-support";

describe("backups.cloudCopy config", () => {
  it("defaults to a daily copy at 05:00 UTC, after the day's first dump, the results mirror and restore verification", () => {
    expect(parsePlatformConfig(stackRaw("prod")).backups.cloudCopy).toEqual({ schedule: "0 5 * * *", deadlineMinutes: 180, noncurrentDays: 30, accessLogDays: 365 });
    const raw = stackRaw("dr");
    raw.backups = { ...raw.backups, cloudCopy: { schedule: "15 6 * * *" } };
    expect(parsePlatformConfig(raw).backups.cloudCopy).toMatchObject({ schedule: "15 6 * * *", deadlineMinutes: 180 });
  });

  it.each([
    [{ schedule: "daily" }, "backups.cloudCopy.schedule: expected a 5-field cron expression"],
    [{ schedule: "0 25 * * *" }, "backups.cloudCopy.schedule: hour '25' is outside 0-23"],
    [{ deadlineMinutes: 5 }, "backups.cloudCopy.deadlineMinutes: expected at least 10 minutes"],
    [{ noncurrentDays: 0 }, "backups.cloudCopy.noncurrentDays"],
    [{ bucket: "mine" }, "backups.cloudCopy.bucket: unknown key"],
  ])("refuses %j, naming the key", (bad, message) => {
    const raw = stackRaw("prod");
    raw.backups = { ...raw.backups, cloudCopy: bad };
    expect(problems(raw).join("\n")).toContain(message);
  });
});
