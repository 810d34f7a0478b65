import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import { backupCronJobSpec, backupLifecycleRules, backupLockRules, r2Endpoint } from "./builders";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
const retention = { hourly: 24, daily: 7, weekly: 4, monthly: 12 };
const spec = backupCronJobSpec({
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
}) as any;
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

  it("runs restricted, without a service-account token", () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(pod.volumes[0]).toEqual({ name: "tmp", emptyDir: { sizeLimit: "20Gi" } });
    expect(pod.volumes.slice(1).map((v: any) => v.secret.secretName)).toEqual(["jobs-database", "backup-writer"]);
  });
});

describe("backup bucket lifecycle", () => {
  it("aborts abandoned uploads and keeps nothing past the monthly tier", () => {
    const rules = backupLifecycleRules(retention);
    expect(rules[0].abortMultipartUploadsTransition?.condition.maxAge).toBe(86_400);
    const expire = rules.find((r) => r.deleteObjectsTransition)!;
    expect(expire.conditions.prefix).toBe("postgres/");
    // Longer than 12 months, so pruning, not the lifecycle, decides which monthly copies stay.
    expect(expire.deleteObjectsTransition!.condition.maxAge).toBeGreaterThan(365 * 86_400);
  });
});

describe("backup bucket lock", () => {
  it("locks every dump against delete and overwrite for the hourly tier less an hour, so pruning never meets a lock", () => {
    const rules = backupLockRules({ hourly: 24, daily: 7, weekly: 4, monthly: 12 });
    expect(rules).toEqual([{ id: "no-delete-within-hourly-tier", enabled: true, prefix: "postgres/", condition: { type: "Age", maxAgeSeconds: 23 * 3600 } }]);
    // The youngest dump pruning deletes has left the hourly tier: `hourly` hourly runs old.
    expect(rules[0].condition.maxAgeSeconds).toBeLessThan(24 * 3600);
    // And the lock is shorter than the lifecycle's expiry, which it would otherwise silently override.
    const expiry = backupLifecycleRules({ hourly: 24, daily: 7, weekly: 4, monthly: 12 }).find((r) => r.deleteObjectsTransition)!;
    expect(rules[0].condition.maxAgeSeconds).toBeLessThan(expiry.deleteObjectsTransition!.condition.maxAge);
  });
});
