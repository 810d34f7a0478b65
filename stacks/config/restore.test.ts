import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { problems, stackRaw } from "./test-support";

describe("restore verification config", () => {
  it("defaults to a daily run after the night's jobs, 2 h for the newest backup and 26 h for the newest verified one", () => {
    expect(parsePlatformConfig(stackRaw("prod")).restoreVerification).toEqual({
      schedule: "30 4 * * *",
      maxBackupAgeHours: 2,
      maxVerifiedBackupAgeHours: 26,
      deadlineMinutes: 60,
      scratchStorage: "20Gi",
    });
    const raw = stackRaw("dr");
    raw.restoreVerification = { schedule: "0 */12 * * *", maxVerifiedBackupAgeHours: 14 };
    expect(parsePlatformConfig(raw).restoreVerification).toMatchObject({ schedule: "0 */12 * * *", maxBackupAgeHours: 2, maxVerifiedBackupAgeHours: 14 });
  });

  it.each([
    [{ schedule: "every day" }, "restoreVerification.schedule: expected a 5-field cron expression such as '0 8 * * 1-5', got 2 field(s) in 'every day'"],
    [{ schedule: "61 4 * * *" }, "restoreVerification.schedule: minute '61' is outside 0-59"],
    [{ maxBackupAgeHours: 0 }, "restoreVerification.maxBackupAgeHours: expected a number of hours above 0"],
    [{ maxVerifiedBackupAgeHours: -3 }, "restoreVerification.maxVerifiedBackupAgeHours: expected a number of hours above 0"],
    [{ scratchStorage: "lots" }, "restoreVerification.scratchStorage: expected a Kubernetes quantity"],
    [{ scheduel: "0 4 * * *" }, "restoreVerification.scheduel: unknown key"],
  ])("refuses %j, naming the key", (bad, message) => {
    const raw = stackRaw("prod");
    raw.restoreVerification = bad;
    expect(problems(raw).join("\n")).toContain(message);
  });
});
