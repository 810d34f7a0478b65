import { describe, expect, it } from "vitest";
import { parsePlatformConfig } from "./index";
import { observabilityRuleArgs } from "../observability";
import { mirroredResultsBucket } from "./stores";
import { stackRaw } from "./test-support";

const watched = (raw: Record<string, any>) => observabilityRuleArgs(parsePlatformConfig(raw)).backupCronJobs ?? [];

describe("the backup CronJobs watched for staleness", () => {
  it("watches the cloud copy and the results mirror in both stacks, 48 h each at the daily defaults", () => {
    for (const stack of ["prod", "dr"] as const) {
      expect(watched(stackRaw(stack))).toEqual([
        { alert: "BackupCopyStale", what: "copy of the backups in the cloud's own store", namespace: "processors", cronJob: "backup-copy", schedule: "0 5 * * *", staleAfterSeconds: 48 * 3600 },
        { alert: "ResultsMirrorStale", what: "mirror of the results store", namespace: "processors", cronJob: "results-mirror", schedule: "30 3 * * *", staleAfterSeconds: 48 * 3600 },
      ]);
    }
  });

  it("takes each allowance from the job's own schedule: twice its longest gap", () => {
    const raw = stackRaw("prod");
    raw.backups = { ...raw.backups, cloudCopy: { ...raw.backups.cloudCopy, schedule: "0 */6 * * *" }, resultsMirror: { ...raw.backups.resultsMirror, schedule: "0 2 * * SUN" } };
    expect(watched(raw).map((j) => [j.cronJob, j.staleAfterSeconds])).toEqual([
      ["backup-copy", 12 * 3600],
      ["results-mirror", 14 * 86400],
    ]);
  });

  it("leaves the mirror out where no mirror runs: results in a cloud bucket, or on R2 in another account", () => {
    const gcs = stackRaw("prod");
    gcs.results = { storeUrl: "gs://pitchey-results/jobs" };
    const elsewhere = stackRaw("prod");
    elsewhere.results = { ...elsewhere.results, s3Endpoint: "https://fedcba9876543210fedcba9876543210.r2.cloudflarestorage.com" };
    for (const raw of [gcs, elsewhere]) {
      expect(mirroredResultsBucket(parsePlatformConfig(raw))).toBeUndefined();
      expect(watched(raw).map((j) => j.alert)).toEqual(["BackupCopyStale"]);
    }
    expect(mirroredResultsBucket(parsePlatformConfig(stackRaw("prod")))).toBe("pitchey-results");
  });
});
