import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { problems, stackRaw } from "./test-support";


describe("database and failover config", () => {
  it("runs the database itself by default: 3 instances, a 2-minute archive timeout, session pooling sized to fit", () => {
    const c = parsePlatformConfig(stackRaw("prod"));
    expect(c.database.cidrs).toBeUndefined();
    expect(c.database).toMatchObject({ instances: 3, archiveTimeoutSeconds: 120, maxReplicationLagSeconds: 300 });
    expect(c.failover.phase).toBe(0);
  });

  it("dr follows prod's database by a StackReference name from config", () => {
    const c = parsePlatformConfig(stackRaw("dr"));
    expect(c.database.replicaOf).toEqual({ stack: "pitchey/pitchey-containers/prod" });
  });

  it("keeps an external database possible with database.cidrs", () => {
    const raw = stackRaw("prod");
    raw.database = { cidrs: ["10.40.0.0/24"] };
    expect(parsePlatformConfig(raw).database.cidrs).toEqual(["10.40.0.0/24"]);
  });

  it.each([
    [{ failover: { phase: 20 } }, "failover.phase: expected one of 0, 10, 50, 100"],
    [{ database: { replicaOf: { stack: "prod" } } }, "database.replicaOf.stack: expected a stack reference name org/project/stack"],
    [{ database: { archiveTimeoutSeconds: 900 } }, "database.archiveTimeoutSeconds: expected 30–300 seconds (the RPO is 5 minutes)"],
    [{ database: { baseBackupSchedule: "daily" } }, "database.baseBackupSchedule: expected a 5-field cron expression such as '0 8 * * 1-5', got 1 field(s) in 'daily'"],
    [{ database: { maxConnections: 100 } }, "database.maxConnections: is 100, but 2 pooler pod(s) × defaultPoolSize 125 + 20 reserved need 270"],
    [{ database: { walRetentionDays: 0 } }, "database.walRetentionDays: Too small: expected number to be >0"],
    [{ maintenance: { jobRetentionDays: 0 } }, "maintenance.jobRetentionDays: expected at least 1 day (0 would purge jobs as they finish)"],
    [{ maintenance: { vacuum: "0 25 * * *" } }, "maintenance.vacuum: hour '25' is outside 0-23"],
    [{ maintenance: { purge: "*/0 * * * *" } }, "maintenance.purge: minute step must be at least 1 in '*/0'"],
    [{ maintenance: { capacityReport: "0 3 * * SUNDAY" } }, "maintenance.capacityReport: day of week 'SUNDAY' is outside 0-7"],
    [{ backups: { schedule: "hourly" } }, "backups.schedule: expected a 5-field cron expression such as '0 8 * * 1-5', got 1 field(s) in 'hourly'"],
  ])("refuses %j naming the key", (override, message) => {
    const raw = stackRaw("dr");
    for (const [k, v] of Object.entries(override)) raw[k] = { ...(raw[k] ?? {}), ...v };
    expect(problems(raw)).toContain(message);
  });

  it("refuses phase 100 where there is no replica to promote", () => {
    const raw = stackRaw("prod");
    raw.failover = { phase: 100 };
    expect(problems(raw)).toContain("failover.phase: 100 promotes this stack's replica database, but database.replicaOf is not set");
  });
});
