import { beforeAll, describe, expect, it } from "vitest";
import { planStack } from "./plan/wholeStack";

let plan: Awaited<ReturnType<typeof planStack>>;
beforeAll(async () => {
  plan = await planStack("dr");
}, 180_000);

const settings = (type: string, name: string) => {
  const found = plan.ofType(`aws:s3/${type}`).filter((r) => r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0].props as Record<string, any>;
};
const BUCKET_ID = "aws:s3/bucket:Bucket::cloud-store-bucket-id";

describe("dr: the backup copy in S3", () => {
  it("is a bucket in eu-west-1 with Object Lock from creation, per-object retention only (no default)", () => {
    const b = settings("bucket:Bucket", "cloud-store-bucket");
    expect(b).toMatchObject({ region: "eu-west-1", objectLockEnabled: true, forceDestroy: false });
    expect(b.bucket).toMatch(/^pitchey-containers-dr-backups-[0-9a-f]{8}$/);
    const lock = settings("bucketObjectLockConfiguration:BucketObjectLockConfiguration", "cloud-store-bucket-lock");
    expect(lock).toMatchObject({ bucket: BUCKET_ID, objectLockEnabled: "Enabled" });
    expect(lock.rule).toBeUndefined();
  });

  it("is encrypted with SSE-KMS under a rotating CMK, versioned, public access blocked, ACLs off", () => {
    const key = plan.ofType("aws:kms/key:Key").find((k) => k.name === "cloud-store-key")!.props as any;
    expect(key.enableKeyRotation).toBe(true);
    const sse = settings("bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "cloud-store-bucket-encryption");
    expect(sse.rules[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/cloud-store-key" });
    expect(settings("bucketVersioning:BucketVersioning", "cloud-store-bucket-versioning").versioningConfiguration).toEqual({ status: "Enabled" });
    expect(settings("bucketPublicAccessBlock:BucketPublicAccessBlock", "cloud-store-bucket-public-access")).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(settings("bucketOwnershipControls:BucketOwnershipControls", "cloud-store-bucket-ownership").rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("denies requests without TLS and puts under another key, and logs access into a hardened log bucket", () => {
    const policy = JSON.parse(settings("bucketPolicy:BucketPolicy", "cloud-store-bucket-policy").policy);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(policy.Statement.map((s: any) => s.Sid)).toEqual(["DenyInsecureTransport", "DenyOtherEncryption", "DenyOtherKeys"]);
    const logs = settings("bucket:Bucket", "cloud-store-logs");
    expect(settings("bucketLogging:BucketLogging", "cloud-store-bucket-logging")).toMatchObject({ bucket: BUCKET_ID, targetBucket: logs.bucket });
    expect(settings("bucketPublicAccessBlock:BucketPublicAccessBlock", "cloud-store-logs-public-access").restrictPublicBuckets).toBe(true);
    const logPolicy = JSON.parse(settings("bucketPolicy:BucketPolicy", "cloud-store-logs-policy").policy);
    expect(logPolicy.Statement[1]).toMatchObject({ Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject" });
  });

  it("aborts incomplete uploads after a day, expires noncurrent versions, and moves the monthly tier to Glacier IR", () => {
    const rules = settings("bucketLifecycleConfiguration:BucketLifecycleConfiguration", "cloud-store-bucket-lifecycle").rules as any[];
    expect(rules.find((r) => r.abortIncompleteMultipartUpload)?.abortIncompleteMultipartUpload.daysAfterInitiation).toBe(1);
    expect(rules.find((r) => r.noncurrentVersionExpiration)?.noncurrentVersionExpiration.noncurrentDays).toBe(30);
    const monthly = rules.find((r) => r.filter?.prefix === "postgres/monthly/");
    expect(monthly.transitions).toEqual([{ days: 30, storageClass: "GLACIER_IR" }]);
  });

  it("gives the copy job an IRSA role trusted only from its ServiceAccount, limited to that bucket and key", () => {
    const role = plan.ofType("aws:iam/role:Role").find((r) => r.name === "cloud-store-copier")!.props as any;
    const trust = JSON.parse(role.assumeRolePolicy).Statement[0];
    expect(Object.values(trust.Condition.StringEquals)).toContain("system:serviceaccount:processors:backup-copy");
    const policy = JSON.parse((plan.ofType("aws:iam/rolePolicy:RolePolicy").find((r) => r.name === "cloud-store-copier")!.props as any).policy);
    const actions = policy.Statement.flatMap((s: any) => s.Action).sort();
    expect(actions).toEqual(["kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "s3:GetObjectRetention", "s3:ListBucket", "s3:PutObject", "s3:PutObjectRetention"]);
    const b = settings("bucket:Bucket", "cloud-store-bucket").bucket;
    expect(policy.Statement.flatMap((s: any) => s.Resource)).toEqual([`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`, "arn:aws:kms:eu-west-1:123456789012:key/cloud-store-key"]);
    const sa = plan.k8s("ServiceAccount").find((s) => s.metadata.name === "backup-copy");
    expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/pitchey-containers-dr-backup-copy" });
    const cj = plan.k8s("CronJob").find((c) => c.metadata.name === "backup-copy");
    const env = Object.fromEntries(cj.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ COPY_TARGET_URL: `s3://${b}`, COPY_TARGET_REGION: "eu-west-1", COPY_SOURCE_URL: "s3://pitchey-backups-dr" });
  });
});
