import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import { backupCronJobSpec, backupLifecycleRules, backupLockRules, r2Endpoint } from "./builders";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const retention = { hourly: 24, daily: 7, weekly: 4, monthly: 12 };
const args = {
  image: `registry.example/db-backup@sha256:${"b".repeat(64)}`,
  schedule: "0 * * * *",
  retention,
  storeUrl: "s3://pitchey-backups",
  s3Endpoint: r2Endpoint("0123456789abcdef0123456789abcdef"),
  storeSecretName: "backup-writer",
  databaseSecretName: "jobs-database",
  serviceAccountName: "db-backup",
  pool,
  labels: { "app.kubernetes.io/name": "db-backup" },
};
const spec = backupCronJobSpec(args) as any;
const pod = spec.jobTemplate.spec.template.spec;
const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("database backup CronJob", () => {
  it("runs hourly, one at a time", () => {
    expect(spec.schedule).toBe("0 * * * *");
    expect(spec.concurrencyPolicy).toBe("Forbid");
  });

  it("hands the playbook's retention and the R2 store to the backup command", () => {
    expect(pod.containers[0].command).toEqual(["node", "dist/cli/backup.js"]);
    expect(env).toMatchObject({
      BACKUP_STORE_URL: "s3://pitchey-backups",
      BACKUP_KEEP_HOURLY: "24",
      BACKUP_KEEP_DAILY: "7",
      BACKUP_KEEP_WEEKLY: "4",
      BACKUP_KEEP_MONTHLY: "12",
    });
    expect(env.DATABASE_URL_FILE).toBe("/var/run/secrets/pitchey/jobs-database/DATABASE_URL");
    expect(env.AWS_SECRET_ACCESS_KEY_FILE).toBe("/var/run/secrets/pitchey/backup-writer/AWS_SECRET_ACCESS_KEY");
    for (const e of pod.containers[0].env) expect(e.valueFrom?.secretKeyRef, e.name).toBeUndefined();
    expect(env.BACKUP_S3_ENDPOINT).toBe("https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com");
  });

  it("records its runs, except where the jobs database is a read-only replica", () => {
    expect(env.BACKUP_RECORD_RUNS).toBe("true");
    const onReplica = backupCronJobSpec({ ...args, recordRuns: false }) as any;
    const replicaEnv = onReplica.jobTemplate.spec.template.spec.containers[0].env;
    expect(replicaEnv.find((e: any) => e.name === "BACKUP_RECORD_RUNS")).toEqual({ name: "BACKUP_RECORD_RUNS", value: "false" });
  });

  it("runs restricted, without a service-account token", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.volumes[0]).toEqual({ name: "tmp", emptyDir: { sizeLimit: "20Gi" } });
    expect(pod.volumes.slice(1).map((v: any) => v.secret.secretName)).toEqual(["jobs-database", "backup-writer"]);
  });
});

describe("backup bucket lifecycle", () => {
  const rules = backupLifecycleRules(retention);
  const expiry = (prefix: string) => rules.find((r) => r.deleteObjectsTransition && r.conditions.prefix === prefix)!.deleteObjectsTransition!.condition.maxAge;

  it("aborts abandoned uploads and moves the monthly tier to Infrequent Access after 30 days", () => {
    expect(rules[0]).toMatchObject({ conditions: { prefix: "" }, abortMultipartUploadsTransition: { condition: { maxAge: 86_400 } } });
    const monthly = rules.find((r) => r.conditions.prefix === "postgres/monthly/") as any;
    expect(monthly.storageClassTransitions).toEqual([{ condition: { type: "Age", maxAge: 30 * 86_400 }, storageClass: "InfrequentAccess" }]);
  });

  it("expires each tier only after its retention, so pruning, not the lifecycle, decides what stays", () => {
    expect(expiry("postgres/daily/")).toBeGreaterThan(7 * 86_400);
    expect(expiry("postgres/weekly/")).toBeGreaterThan(4 * 7 * 86_400);
    expect(expiry("postgres/monthly/")).toBeGreaterThan(365 * 86_400);
    expect(expiry("postgres/")).toBeGreaterThan(365 * 86_400);
    // No rule reaches into the hourly tier alone, and none expires anything sooner than a day.
    for (const r of rules) if (r.deleteObjectsTransition) expect(r.deleteObjectsTransition.condition.maxAge).toBeGreaterThan(86_400);
  });
});

describe("backup bucket lock", () => {
  const locks = backupLockRules(retention);
  const lockOf = (tier: string) => locks.find((l) => l.id === `no-delete-within-${tier}-tier`)!;

  it("locks every tier against delete and overwrite for its retention less an hour", () => {
    expect(locks.map((l) => [l.prefix, l.condition.maxAgeSeconds / 3600])).toEqual([
      ["postgres/2", 23],
      ["postgres/daily/", 7 * 24 - 1],
      ["postgres/weekly/", 28 * 24 - 1],
      ["postgres/monthly/", 12 * 28 * 24 - 1],
    ]);
    for (const l of locks) expect(l).toMatchObject({ enabled: true, condition: { type: "Age" } });
  });

  it("never outlasts the lifecycle's expiry of the same tier, which it would silently override", () => {
    const rules = backupLifecycleRules(retention);
    for (const tier of ["daily", "weekly", "monthly"]) {
      const expire = rules.find((r) => r.deleteObjectsTransition && r.conditions.prefix === `postgres/${tier}/`)!;
      expect(lockOf(tier).condition.maxAgeSeconds, tier).toBeLessThan(expire.deleteObjectsTransition!.condition.maxAge);
    }
    // The hourly tier's keys start with the year, so its lock never covers the tier folders.
    expect("postgres/daily/2026-11-28T00-00-00Z.dump".startsWith(lockOf("hourly").prefix)).toBe(false);
    expect("postgres/2026-11-28T00-00-00Z.dump".startsWith(lockOf("hourly").prefix)).toBe(true);
  });

  it("keeps at least an hour's lock for a one-hour tier", () => {
    expect(backupLockRules({ hourly: 1, daily: 1, weekly: 1, monthly: 1 })[0]!.condition.maxAgeSeconds).toBe(3600);
  });
});
