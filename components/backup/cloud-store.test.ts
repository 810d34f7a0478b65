import { describe, expect, it } from "vitest";
import type { PoolScheduling } from "../cluster/types";
import { cloudStoreNames, cloudStoreProblems, gcsLifecycleRules, gcsRetentionRoleId, monthlyRetentionSeconds, s3BucketPolicy, s3CopierPolicy, s3LifecycleRules, tierExpiryDays } from "./cloud-store";
import { copyCronJobSpec } from "./cloud-store-job";

const retention = { hourly: 24, daily: 7, weekly: 4, monthly: 12, mirror: { daily: 30, weekly: 12 }, noncurrentDays: 30, accessLogDays: 365 };

describe("cloud store builders", () => {
  it("expires each tier a period past the playbook's retention, and keeps the copy's hourly dumps two days", () => {
    expect(tierExpiryDays(retention)).toEqual({ hourly: 2, daily: 9, weekly: 35, monthly: 403 });
    const s3 = s3LifecycleRules(retention);
    expect(s3.find((r) => r.id === "expire-weekly-tier")).toMatchObject({ filter: { prefix: "postgres/weekly/" }, expiration: { days: 35 } });
    expect(s3.find((r) => r.id === "expire-results-mirror-days")).toMatchObject({ filter: { prefix: "r2/daily/" }, expiration: { days: 91 } });
    const gcs = gcsLifecycleRules(retention);
    expect(gcs.filter((r: any) => r.condition.matchesPrefixes?.[0] === "postgres/2")).toEqual([{ action: { type: "Delete" }, condition: { age: 2, matchesPrefixes: ["postgres/2"], withState: "LIVE" } }]);
  });

  it("locks a monthly copy for 12 × 28 days, as R2 counts the tier", () => {
    expect(monthlyRetentionSeconds(retention)).toBe(336 * 86400);
  });

  it("names buckets and the custom role from the prefix, and refuses what a cloud would", () => {
    expect(cloudStoreNames("pitchey-containers-dr", "0a1b2c3d")).toEqual({ bucket: "pitchey-containers-dr-backups-0a1b2c3d", logs: "pitchey-containers-dr-access-logs-0a1b2c3d" });
    expect(() => cloudStoreNames("x".repeat(50), "0a1b2c3d")).toThrow(/not 3–63/);
    expect(gcsRetentionRoleId("pitchey-containers")).toBe("pitchey_containers_backupCopyRetention");
    const problems = cloudStoreProblems({ cloud: "gcp", namePrefix: "p".repeat(60), region: "us-west1", retention: { ...retention, noncurrentDays: 0 }, labels: { environment: "e", costCenter: "c", team: "t" }, copier: { namespace: "processors", serviceAccount: "backup-copy" } });
    expect(problems.map((p) => p.propertyPath)).toEqual(["project", "retention.noncurrentDays", "namePrefix"]);
  });

  it("lets the copier add, read and lock objects with the bucket's key, never delete", () => {
    const p = JSON.parse(s3CopierPolicy("arn:aws:s3:::b", "arn:aws:kms:eu-west-1:1:key/k"));
    const actions = p.Statement.flatMap((s: any) => s.Action);
    expect(actions.some((a: string) => /Delete|BypassGovernance/.test(a))).toBe(false);
    const bucket = JSON.parse(s3BucketPolicy("arn:aws:s3:::b", "arn:aws:kms:eu-west-1:1:key/k"));
    expect(bucket.Statement.every((s: any) => s.Effect === "Deny")).toBe(true);
  });

  it("runs the copy daily as its own ServiceAccount, one at a time, stopping itself before the Job's deadline", () => {
    const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [] };
    const spec = copyCronJobSpec({
      image: `registry.example/db-backup@sha256:${"b".repeat(64)}`,
      schedule: "0 5 * * *",
      source: { accountId: "0123456789abcdef0123456789abcdef", bucket: "pitchey-backups", endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com" },
      target: { provider: "aws", bucket: "b", region: "eu-west-1" },
      monthlyRetentionSeconds: 336 * 86400,
      sourceSecretName: "backup-copy-reader",
      serviceAccountName: "backup-copy",
      pool,
      labels: { "app.kubernetes.io/name": "backup-copy" },
      deadlineSeconds: 3 * 3600,
    }) as any;
    expect(spec).toMatchObject({ schedule: "0 5 * * *", concurrencyPolicy: "Forbid" });
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBe(10800);
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0].command).toEqual(["node", "dist/cli/replicate-backups.js"]);
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ COPY_DEADLINE_SECONDS: "10500", COPY_TARGET_URL: "s3://b", COPY_PREFIXES: "postgres/,r2/", AWS_SECRET_ACCESS_KEY_FILE: expect.stringContaining("backup-copy-reader") });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
  });
});
