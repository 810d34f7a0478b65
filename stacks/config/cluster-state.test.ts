import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { observabilityRuleArgs } from "../observability";
import { problems, stackRaw } from "./test-support";

describe("cluster-state backup config (backups.configs)", () => {
  it("defaults to a daily backup at 03:15 UTC kept a year, stale after 50 h, on both stacks", () => {
    for (const stack of ["prod", "dr"] as const) {
      const c = parsePlatformConfig(stackRaw(stack));
      expect(c.backups.configs).toEqual({ schedule: "15 3 * * *", ttl: "8760h", maxAgeHours: 50 });
      expect(observabilityRuleArgs(c).clusterStateBackup).toEqual({ scheduleName: "cluster-state", maxAgeHours: 50 });
    }
    const raw = stackRaw("prod");
    raw.backups = { ...(raw.backups as object), configs: { schedule: "0 */6 * * *", ttl: "720h", maxAgeHours: 13 } };
    expect(parsePlatformConfig(raw).backups.configs).toEqual({ schedule: "0 */6 * * *", ttl: "720h", maxAgeHours: 13 });
  });

  it.each([
    [{ schedule: "daily" }, "backups.configs.schedule: expected a 5-field cron expression such as '0 8 * * 1-5', got 1 field(s) in 'daily'"],
    [{ schedule: "15 25 * * *" }, "backups.configs.schedule: hour '25' is outside 0-23"],
    [{ ttl: "30d" }, "backups.configs.ttl: expected a Go duration in hours, minutes or seconds such as 8760h"],
    [{ ttl: "0h" }, "backups.configs.ttl: expected a duration above 0"],
    [{ maxAgeHours: 0 }, "backups.configs.maxAgeHours: expected a number of hours above 0"],
    [{ retention: "unlimited" }, "backups.configs.retention: unknown key"],
  ])("refuses %j, naming the key", (bad, message) => {
    const raw = stackRaw("prod");
    raw.backups = { ...(raw.backups as object), configs: bad };
    expect(problems(raw).join("\n")).toContain(message);
  });
});
