import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMaintenanceEnv, secretFromEnv } from "../images/src/maintenance/env";
import { MAINTENANCE_TASKS } from "../images/src/maintenance/tasks";
import type { PoolScheduling } from "../components/cluster/types";
import { MAINTENANCE_DEFAULTS, MAINTENANCE_JOBS, maintenanceCronJobSpec, type MaintenanceJob } from "../components/database/maintenance";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };

/** Mounts each Secret the pod mounts under a temporary root, as the kubelet would, and resolves the env. */
function kubelet(pod: any): { argv: string[]; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), "kubelet-"));
  const c = pod.containers[0];
  const files: Record<string, Record<string, string>> = {
    "jobs-database": { DATABASE_URL: "postgresql://processors:pw@jobs-db-pooler-rw.jobs-db.svc:5432/jobs\n" },
    "capacity-reports": { AWS_ACCESS_KEY_ID: "id\n", AWS_SECRET_ACCESS_KEY: "secret\n" },
  };
  const remap: Record<string, string> = {};
  for (const v of pod.volumes.filter((x: any) => x.secret)) {
    const mount = c.volumeMounts.find((m: any) => m.name === v.name);
    expect(mount.readOnly).toBe(true);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    for (const [k, val] of Object.entries(files[v.secret.secretName])) writeFileSync(join(dir, k), val);
    remap[mount.mountPath] = dir;
  }
  const env = Object.fromEntries(
    c.env.map((e: any) => {
      let value: string = e.value;
      for (const [from, to] of Object.entries(remap)) if (value.startsWith(from)) value = to + value.slice(from.length);
      return [e.name, value];
    }),
  );
  expect(c.env.some((e: any) => e.valueFrom?.secretKeyRef)).toBe(false);
  return { argv: c.command.slice(2), env };
}

describe("maintenance CronJobs ↔ the maintenance command", () => {
  it.each(Object.keys(MAINTENANCE_JOBS) as MaintenanceJob[])("%s: its env and argv parse into its task, reading the Secret from files", (job) => {
    const spec = maintenanceCronJobSpec({
      job,
      settings: { ...MAINTENANCE_DEFAULTS, jobRetentionDays: 45, metricsRetentionMonths: 6 },
      image: `r/db-backup@sha256:${"a".repeat(64)}`,
      databaseSecretName: "jobs-database",
      reportStore: { url: "s3://pitchey-backups", endpoint: "https://a.r2.cloudflarestorage.com", secretName: "capacity-reports" },
      serviceAccountName: "db-maintenance",
      pool,
      labels: {},
    }) as any;
    expect(spec.schedule).toBe(MAINTENANCE_DEFAULTS[job]);
    expect(spec.concurrencyPolicy).toBe("Forbid");
    const { argv, env } = kubelet(spec.jobTemplate.spec.template.spec);
    expect(spec.jobTemplate.spec.template.spec.containers[0].command.slice(0, 2)).toEqual(["node", "dist/cli/maintenance.js"]);
    const parsed = parseMaintenanceEnv(argv, env);
    expect(MAINTENANCE_TASKS).toContain(parsed.task);
    expect(parsed).toMatchObject({ task: MAINTENANCE_JOBS[job].task, databaseUrl: "postgresql://processors:pw@jobs-db-pooler-rw.jobs-db.svc:5432/jobs", jobRetentionDays: 45, metricsRetentionMonths: 6 });
    // Bounded: each statement ends before the Job's deadline does.
    expect(parsed.statementTimeoutSeconds).toBeLessThan(spec.jobTemplate.spec.activeDeadlineSeconds);
    if (job === "capacityReport") {
      expect(parsed.storeUrl).toBe("s3://pitchey-backups");
      expect(secretFromEnv(env, "AWS_SECRET_ACCESS_KEY")).toBe("secret");
    }
  });

  it("runs VACUUM ANALYZE daily at 02:00 UTC and the capacity report on Sundays, as the playbook schedules", () => {
    expect(MAINTENANCE_DEFAULTS.vacuum).toBe("0 2 * * *");
    expect(MAINTENANCE_DEFAULTS.capacityReport).toBe("0 3 * * 0");
  });
});
