import { describe, expect, it } from "vitest";
import { parseCommand, prometheusChecks, runCommand, UsageError } from "./cli";
import { customQueryMetricNames } from "../../components/backup/restore-builders";
import { monitoringQueries } from "../../components/database/builders";
import type { CheckResult, FailoverChecks, FailoverStack } from "./run";
import { stackRaw } from "../config/test-support";

/**
 * A stack as the Automation API would present it, recording what the commands did to it: Pulumi.dr.yaml's config
 * (with `failover.phase` and any overrides set), stored as the CLI stores it (`project:key`, JSON for objects).
 */
function fakeStack(phase?: string, upResult = "succeeded", overrides: Record<string, unknown> = {}) {
  const calls: string[] = [];
  const raw: Record<string, any> = { ...stackRaw("dr"), ...overrides };
  raw.failover = phase === undefined ? undefined : { phase: Number(phase) };
  const config: Record<string, string | undefined> = { "failover.phase": phase };
  const stack: FailoverStack = {
    name: "dr",
    getConfig: async (k) => config[k],
    getAllConfig: async () =>
      Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined).map(([k, v]) => [`pitchey-containers:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
    setConfig: async (k, v) => {
      calls.push(`set ${k}=${v}`);
      config[k] = v;
    },
    up: async (out) => {
      calls.push("up");
      out("Updating (dr)\n");
      return { result: upResult };
    },
  };
  return { stack, calls, config };
}
const ok = (name: string): CheckResult => ({ name, ok: true, detail: "fine" });
/** Live figures as the DR site's Prometheus would give them; ages in seconds, judged against the thresholds passed in. */
function fakeChecks(lag: number, healthy = true, ages: { backup?: number; verified?: number } = {}): FailoverChecks {
  const age = (name: string, seconds: number, max: number): CheckResult => ({ name, ok: seconds <= max, detail: `${seconds} s old (allowed ${max} s)` });
  return {
    replicaLagSeconds: async () => lag,
    drHealthy: async () => (healthy ? ok("dr-health") : { name: "dr-health", ok: false, detail: "3 processor pod(s) short of their floors" }),
    backupFresh: async (max) => age("backup-fresh", ages.backup ?? 1800, max),
    restoreVerified: async (max) => age("restore-verification", ages.verified ?? 3 * 3600, max),
  };
}
async function run(argv: string[], stack: FailoverStack, checks: FailoverChecks) {
  const lines: string[] = [];
  const code = await runCommand(parseCommand(argv), stack, checks, (l) => lines.push(l));
  return { code, out: lines.join("\n") };
}

describe("npm run failover", () => {
  it("checks, sets failover.phase, runs up, checks again", async () => {
    const { stack, calls } = fakeStack("0");
    const r = await run(["failover", "--to", "dr", "--percent", "10"], stack, fakeChecks(42));
    expect(r.code).toBe(0);
    expect(calls).toEqual(["set failover.phase=10", "up"]);
    expect(r.out).toContain("pre-check: pass replica-lag: 42 s behind the primary (RPO 300 s)");
    expect(r.out).toContain("weights primary 0.9 / standby 0.1");
    expect(r.out).toContain("post-check: pass dr-health");
  });

  it("refuses when the replica lags past the RPO, naming the check, and changes nothing", async () => {
    const { stack, calls } = fakeStack("10");
    const r = await run(["failover", "--to", "dr", "--percent", "50"], stack, fakeChecks(412));
    expect(r.code).toBe(1);
    expect(r.out).toContain("refused: pre-check failed: replica-lag (412 s behind the primary (RPO 300 s))");
    expect(calls).toEqual([]);
  });

  it("refuses when the DR site is not healthy", async () => {
    const { stack, calls } = fakeStack("0");
    const r = await run(["failover", "--to", "dr", "--percent", "100"], stack, fakeChecks(10, false));
    expect(r.out).toContain("refused: pre-check failed: dr-health (3 processor pod(s) short of their floors)");
    expect(calls).toEqual([]);
  });

  it("--dry-run prints each step and changes nothing", async () => {
    const { stack, calls } = fakeStack("50");
    const r = await run(["failover", "--to", "dr", "--percent", "100", "--dry-run"], stack, fakeChecks(10));
    expect(r.code).toBe(0);
    expect(calls).toEqual([]);
    expect(r.out).toContain("would set failover.phase=100 on dr: weights primary 0 / standby 1, database promoted");
    expect(r.out).toContain("would run: pulumi up -s dr");
  });

  it("refuses to move backwards (that is a failback) and reports a failed up", async () => {
    expect((await run(["failover", "--to", "dr", "--percent", "10"], fakeStack("50").stack, fakeChecks(1))).out).toContain("below the current phase 50");
    const failed = await run(["failover", "--to", "dr", "--percent", "10"], fakeStack("0", "failed").stack, fakeChecks(1));
    expect(failed.code).toBe(1);
    expect(failed.out).toContain("pulumi up on dr ended failed");
  });

  it.each([
    [["failover", "--to", "prod", "--percent", "10"], "--to: expected dr"],
    [["failover", "--to", "dr", "--percent", "20"], '--percent: expected 10, 50 or 100, got "20"'],
    [["failover", "--to", "dr"], '--percent: expected 10, 50 or 100, got ""'],
    [["failback", "--percent", "10"], "--to/--percent apply to failover only"],
    [["failover", "--to", "dr", "--percent", "10", "--fast"], "Unknown option '--fast'"],
  ])("bad input %j is refused before anything is read", (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe("npm run failback", () => {
  it("sets phase 0 from a traffic split", async () => {
    const { stack, calls } = fakeStack("50");
    expect((await run(["failback"], stack, fakeChecks(1))).code).toBe(0);
    expect(calls).toEqual(["set failover.phase=0", "up"]);
  });

  it("from phase 100 refuses until production's database has been rebuilt as a replica", async () => {
    const { stack, calls } = fakeStack("100");
    const r = await run(["failback"], stack, fakeChecks(1));
    expect(r.code).toBe(1);
    expect(r.out).toContain("rebuild production's database as its replica first");
    expect(calls).toEqual([]);
    expect((await run(["failback", "--primary-rebuilt"], stack, fakeChecks(1))).code).toBe(0);
  });
});

describe("npm run dr:drill", () => {
  it("passes when lag, DR health and restore verification pass, without touching the stack", async () => {
    const { stack, calls } = fakeStack("0");
    const r = await run(["drill"], stack, fakeChecks(30));
    expect(r.code).toBe(0);
    expect(r.out).toContain("drill: PASS (5/5 checks)");
    expect(calls).toEqual([]);
  });

  it("fails the report when the replica lags", async () => {
    const r = await run(["drill"], fakeStack().stack, fakeChecks(900));
    expect(r.code).toBe(1);
    expect(r.out).toContain("drill: FAIL replica-lag: 900 s behind the primary (RPO 300 s)");
  });

  it("judges by the stack's own thresholds: its config changes the verdict", async () => {
    // 412 s behind, the newest backup 5 h old, the newest verified one 30 h old: past every default (300 s, 2 h, 26 h).
    const figures = () => fakeChecks(412, true, { backup: 5 * 3600, verified: 30 * 3600 });
    const byDefault = await run(["drill"], fakeStack("0").stack, figures());
    expect(byDefault.code).toBe(1);
    expect(byDefault.out).toContain("drill: thresholds from stack dr: replica lag 300 s, newest backup 2 h, newest verified backup 26 h");
    expect(byDefault.out).toContain("drill: FAIL replica-lag: 412 s behind the primary (RPO 300 s)");
    expect(byDefault.out).toContain("drill: FAIL backup-fresh: 18000 s old (allowed 7200 s)");
    expect(byDefault.out).toContain("drill: FAIL restore-verification: 108000 s old (allowed 93600 s)");

    // A stack with a 10-minute RPO, backups every 6 hours and a 36-hour verification allowance passes the same figures.
    const raw = stackRaw("dr");
    const relaxed = fakeStack("0", "succeeded", {
      database: { ...raw.database, maxReplicationLagSeconds: 600 },
      backups: { ...raw.backups, schedule: "0 */6 * * *" },
      restoreVerification: { maxVerifiedBackupAgeHours: 36 },
    });
    const r = await run(["drill"], relaxed.stack, figures());
    expect(r.out).toContain("drill: thresholds from stack dr: replica lag 600 s, newest backup 12 h, newest verified backup 36 h");
    expect(r.out).toContain("drill: pass replica-lag: 412 s behind the primary (RPO 600 s)");
    expect(r.out).toContain("drill: PASS (5/5 checks)");
    expect(r.code).toBe(0);
  });

  it("the failover pre-check uses the stack's RPO too", async () => {
    const raw = stackRaw("dr");
    const { stack, calls } = fakeStack("0", "succeeded", { database: { ...raw.database, maxReplicationLagSeconds: 600 } });
    const r = await run(["failover", "--to", "dr", "--percent", "10"], stack, fakeChecks(412));
    expect(r.out).toContain("pre-check: pass replica-lag: 412 s behind the primary (RPO 600 s)");
    expect(calls).toEqual(["set failover.phase=10", "up"]);
  });

  it("refuses, naming the key, when the stack's config is one the program would refuse", async () => {
    const raw = stackRaw("dr");
    const { stack, calls } = fakeStack("0", "succeeded", { database: { ...raw.database, maxReplicationLagSeconds: -5 } });
    const r = await run(["drill"], stack, fakeChecks(1));
    expect(r.code).toBe(1);
    expect(r.out).toContain("refused: invalid stack configuration");
    expect(r.out).toContain("stack dr: database.maxReplicationLagSeconds");
    expect(calls).toEqual([]);
  });
});

describe("Prometheus checks", () => {
  const prom = (values: Record<string, string | undefined>) =>
    prometheusChecks("http://prom.test", (async (url: string) => {
      const q = decodeURIComponent(new URL(url).searchParams.get("query")!);
      const key = Object.keys(values).find((k) => q.includes(k));
      const v = key ? values[key] : undefined;
      return new Response(JSON.stringify({ status: "success", data: { result: v === undefined ? [] : [{ value: [0, v] }] } }));
    }) as typeof fetch);

  it("reads the replica's heartbeat lag; no series at all counts as infinitely behind", async () => {
    expect(await prom({ cnpg_pitchey_heartbeat_lag_seconds: "75" }).replicaLagSeconds()).toBe(75);
    expect(await prom({}).replicaLagSeconds()).toBe(Number.POSITIVE_INFINITY);
  });

  it("reads the restore verifier's last success under the name the database's exporter produces", async () => {
    const name = "cnpg_pitchey_restore_verification_last_success_timestamp_seconds";
    expect(customQueryMetricNames(monitoringQueries())).toContain(name);
    expect(await prom({ [name]: String(3 * 3600) }).restoreVerified(26 * 3600)).toEqual({ name: "restore-verification", ok: true, detail: "last verified 3 h ago (allowed 26 h)" });
    expect((await prom({ [name]: String(27 * 3600) }).restoreVerified(26 * 3600)).ok).toBe(false);
    expect((await prom({ [name]: String(27 * 3600) }).restoreVerified(28 * 3600)).ok).toBe(true);
    expect(await prom({}).restoreVerified(26 * 3600)).toMatchObject({ ok: false, detail: "no restore verification has succeeded" });
  });

  it("reads the backup job's last success under the name the database's exporter produces", async () => {
    const name = "cnpg_pitchey_backup_last_success_timestamp_seconds";
    expect(customQueryMetricNames(monitoringQueries())).toContain(name);
    expect(await prom({ [name]: String(1.5 * 3600) }).backupFresh(7200)).toEqual({ name: "backup-fresh", ok: true, detail: "last successful backup 1.5 h ago (allowed 2 h)" });
    expect((await prom({ [name]: String(3 * 3600) }).backupFresh(7200)).ok).toBe(false);
    expect(await prom({}).backupFresh(7200)).toMatchObject({ ok: false, detail: "no backup run has succeeded" });
  });

  it("counts missing processor pods", async () => {
    expect((await prom({ kube_deployment_spec_replicas: "2" }).drHealthy()).ok).toBe(false);
    expect((await prom({ kube_deployment_spec_replicas: "0" }).drHealthy()).ok).toBe(true);
  });
});
