import { beforeAll, describe, expect, it } from "vitest";
import { planStack } from "./plan/wholeStack";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("prod");
}, 180_000);

const one = (type: string, name: string) => {
  const found = plan.ofType(type).filter((r) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0].props as Record<string, any>;
};

describe("prod: the backup copy in GCS", () => {
  it("is a bucket in the stack's region, named per cluster, encrypted under a rotating CryptoKey GCS may use", () => {
    const bucket = one("gcp:storage/bucket:Bucket", "cloud-store-bucket");
    expect(bucket.location).toBe("US-WEST1");
    expect(bucket.project).toBe("pitchey-prod");
    expect(bucket.name).toMatch(/^pitchey-containers-backups-[0-9a-f]{8}$/);
    const key = one("gcp:kms/cryptoKey:CryptoKey", "cloud-store-key");
    expect(key.rotationPeriod).toBe("7776000s");
    expect(bucket.encryption.defaultKmsKeyName).toBe("gcp:kms/cryptoKey:CryptoKey::cloud-store-key-id");
    const grant = one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "cloud-store-key-gcs");
    expect(grant).toMatchObject({ role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member: "serviceAccount:service-402318765094@gs-project-accounts.iam.gserviceaccount.com" });
  });

  it("is versioned, uniform, closed to the public, never force-destroyed, with object retention and usage logs", () => {
    const bucket = one("gcp:storage/bucket:Bucket", "cloud-store-bucket");
    expect(bucket).toMatchObject({ versioning: { enabled: true }, uniformBucketLevelAccess: true, publicAccessPrevention: "enforced", forceDestroy: false, enableObjectRetention: true });
    expect(bucket.retentionPolicy).toBeUndefined();
    const logs = one("gcp:storage/bucket:Bucket", "cloud-store-logs");
    expect(bucket.logging.logBucket).toBe(logs.name);
    expect(one("gcp:storage/bucketIAMMember:BucketIAMMember", "cloud-store-logs-writer")).toMatchObject({ role: "roles/storage.objectCreator", member: "group:cloud-storage-analytics@google.com" });
    expect(logs).toMatchObject({ uniformBucketLevelAccess: true, publicAccessPrevention: "enforced" });
  });

  it("aborts abandoned uploads, expires noncurrent versions and moves the monthly tier to Coldline", () => {
    const rules = one("gcp:storage/bucket:Bucket", "cloud-store-bucket").lifecycleRules as any[];
    expect(rules).toContainEqual({ action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } });
    expect(rules).toContainEqual({ action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30, withState: "ARCHIVED" } });
    expect(rules).toContainEqual({ action: { type: "SetStorageClass", storageClass: "COLDLINE" }, condition: { age: 30, matchesPrefixes: ["postgres/monthly/"], withState: "LIVE" } });
    expect(rules).toContainEqual({ action: { type: "Delete" }, condition: { age: 13 * 31, matchesPrefixes: ["postgres/monthly/"], withState: "LIVE" } });
  });

  it("gives the copy job a Workload Identity account with create and view on that bucket and use of its key, nothing more", () => {
    const gsa = one("gcp:serviceaccount/account:Account", "cloud-store-copier");
    expect(gsa.accountId).toBe("pitchey-containers-backup-copy");
    expect(one("gcp:serviceaccount/iAMMember:IAMMember", "cloud-store-copier-wi").member).toBe("serviceAccount:pitchey-prod.svc.id.goog[processors/backup-copy]");
    const roles = plan.ofType("gcp:storage/bucketIAMMember:BucketIAMMember").filter((r) => r.name.startsWith("cloud-store-copier")).map((r) => (r.props as any).role).sort();
    const custom = plan.ofType("gcp:projects/iAMCustomRole:IAMCustomRole").find((r) => r.name === "cloud-store-retention-role")!.props as any;
    expect(custom.permissions).toEqual(["storage.objects.setRetention"]);
    expect(roles).toEqual(["projects/pitchey-prod/roles/pitchey_containers_backupCopyRetention", "roles/storage.objectCreator", "roles/storage.objectViewer"].sort());
    expect(plan.ofType("gcp:projects/iAMMember:IAMMember").filter((r) => String((r.props as any).member).includes("backup-copy"))).toEqual([]);
    const sa = plan.k8s("ServiceAccount").find((s) => s.metadata.name === "backup-copy");
    expect(sa.metadata.annotations).toEqual({ "iam.gke.io/gcp-service-account": "pitchey-containers-backup-copy@pitchey-prod.iam.gserviceaccount.com" });
  });

  it("exports the copy's bucket, region and key as a stack output, for restores and for Velero", () => {
    expect(plan.outputs.backupCopy).toMatchObject({ provider: "gcp", region: "us-west1", bucket: expect.stringMatching(/^pitchey-containers-backups-[0-9a-f]{8}$/), kmsKeyId: "gcp:kms/cryptoKey:CryptoKey::cloud-store-key-id" });
  });

  it("runs the daily copy with that ServiceAccount, a read-only R2 token, and a route to the metadata server", () => {
    const cj = plan.k8s("CronJob").find((c) => c.metadata.name === "backup-copy");
    expect(cj.spec).toMatchObject({ schedule: "0 5 * * *", concurrencyPolicy: "Forbid", timeZone: "Etc/UTC" });
    expect(cj.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(180 * 60);
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe("backup-copy");
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.COPY_TARGET_URL).toMatch(/^gs:\/\/pitchey-containers-backups-[0-9a-f]{8}$/);
    expect(env.COPY_SOURCE_URL).toBe("s3://pitchey-backups");
    expect(env.COPY_MONTHLY_RETENTION_SECONDS).toBe(String(12 * 28 * 86400));
    const token = plan.ofType("cloudflare:index/accountToken:AccountToken").find((t) => t.name === "backup-copy-source-token")!.props as any;
    expect(token.name).toBe("pitchey-containers-backup-copy-reader");
    expect(JSON.stringify(token.policies)).toContain("6a018a9f2fc74eb6b293b0c548f38b39");
    expect(JSON.stringify(token.policies)).not.toContain("2efd5506f9c8494dacb1fa10a3e7d5b6");
    const np = plan.k8s("NetworkPolicy").find((n) => n.metadata.name === "backup-copy-metadata-server");
    expect(np.spec.egress[0].to[0].ipBlock.cidr).toBe("169.254.169.254/32");
  });
});
