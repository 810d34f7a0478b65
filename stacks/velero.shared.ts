import { expect, it } from "vitest";
import { VELERO_CRD_DIR } from "../components/backup/velero-builders";
import { validateAgainstCrd } from "../components/ingress/crd-schema";
import { CHARTS } from "../components/versions";
import { evaluatePlan } from "../policies/src/evaluate";
import { allPolicies } from "../policies/src/policies";
import { DATABASE_BACKUP_DEFAULTS } from "./config";
import type { planStack } from "./plan/wholeStack";

type Plan = Awaited<ReturnType<typeof planStack>>;

/** The cluster-state backup as a stack plans it: Velero, its location in the stack's own bucket under its key, its schedule, identity, scrape and alerts. */
export function clusterStateBackupChecks(get: () => Plan, cloud: "gcp" | "aws"): void {
  const one = (kind: string) => {
    const found = get().k8s(kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };

  it("installs Velero from the pinned chart with no credentials Secret, and a daily schedule of every namespace with Secrets", () => {
    const releases = get().ofType("kubernetes:helm.sh/v3:Release").filter((r) => (r.props as any).chart === "velero");
    expect(releases).toHaveLength(1);
    const p = releases[0].props as any;
    expect(p).toMatchObject({ version: CHARTS.velero.version, namespace: "velero", values: { credentials: { useSecret: false }, deployNodeAgent: false, snapshotsEnabled: false } });
    const schedule = one("Schedule");
    expect(schedule.spec).toMatchObject({ schedule: DATABASE_BACKUP_DEFAULTS.configs.schedule, template: { ttl: DATABASE_BACKUP_DEFAULTS.configs.ttl, includedNamespaces: ["*"], includeClusterResources: true } });
    expect(JSON.stringify(schedule.spec.template.excludedResources)).not.toMatch(/secret/);
    for (const o of [schedule, one("BackupStorageLocation")]) expect(validateAgainstCrd(o, VELERO_CRD_DIR), o.kind).toEqual([]);
  });

  it("writes under configs/ of this stack's own backup bucket, encrypted under that bucket's own customer key", () => {
    const bsl = one("BackupStorageLocation").spec;
    expect(bsl.objectStorage.prefix).toBe("configs");
    const name = bsl.objectStorage.bucket;
    if (cloud === "gcp") {
      expect(bsl.provider).toBe("velero.io/gcp");
      const bucket = get().ofType("gcp:storage/bucket:Bucket").find((b) => (b.props as any).name === name);
      expect(bucket, `GCS bucket ${name}`).toBeDefined();
      expect(bsl.config.kmsKeyName).toBe((bucket!.props as any).encryption.defaultKmsKeyName);
      expect(bsl.config.serviceAccount).toMatch(/^[a-z][a-z0-9-]+-velero@[a-z0-9-]+\.iam\.gserviceaccount\.com$/);
    } else {
      expect(bsl.provider).toBe("velero.io/aws");
      const bucket = get().ofType("aws:s3/bucket:Bucket").find((b) => (b.props as any).bucket === name);
      expect(bucket, `S3 bucket ${name}`).toBeDefined();
      const keys = get()
        .ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .flatMap((e) => ((e.props as any).rules ?? []).map((r: any) => r.applyServerSideEncryptionByDefault?.kmsMasterKeyId));
      expect(keys).toContain(bsl.config.kmsKeyId);
      expect(bsl.config.kmsKeyId).toMatch(/^arn:aws:kms:/);
    }
  });

  it("reaches the bucket as its own workload identity, bound to velero/velero only", () => {
    const values = (get().ofType("kubernetes:helm.sh/v3:Release").find((r) => (r.props as any).chart === "velero")!.props as any).values;
    const bucket = one("BackupStorageLocation").spec.objectStorage.bucket;
    if (cloud === "gcp") {
      const email = values.serviceAccount.server.annotations["iam.gke.io/gcp-service-account"];
      const wi = get().ofType("gcp:serviceaccount/iAMMember:IAMMember").filter((m) => (m.props as any).member === "serviceAccount:pitchey-prod.svc.id.goog[velero/velero]");
      expect(wi).toHaveLength(1);
      expect((wi[0].props as any).serviceAccountId).toContain(email);
      const onBucket = get().ofType("gcp:storage/bucketIAMMember:BucketIAMMember").filter((m) => (m.props as any).member === `serviceAccount:${email}`);
      expect(onBucket.map((m) => [(m.props as any).bucket, (m.props as any).role])).toEqual([[bucket, "roles/storage.objectUser"]]);
      expect((onBucket[0].props as any).condition.expression).toContain(`/objects/configs/`);
    } else {
      const arn: string = values.serviceAccount.server.annotations["eks.amazonaws.com/role-arn"];
      const role = get().ofType("aws:iam/role:Role").find((r) => r.name === "velero-role")!;
      expect(arn).toMatch(/^arn:aws:iam::\d{12}:role\//);
      const trust = JSON.parse((role.props as any).assumeRolePolicy);
      expect(Object.values(trust.Statement[0].Condition.StringEquals)).toContain("system:serviceaccount:velero:velero");
      const policy = JSON.parse((get().ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "velero-role-policy")!.props as any).policy);
      expect(policy.Statement.flatMap((s: any) => s.Resource)).toEqual([`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/configs/*`, one("BackupStorageLocation").spec.config.kmsKeyId]);
    }
  });

  it("is scraped (a PodMonitor on its metrics port, let through both namespaces' policies) and alerted on", () => {
    const pm = get().k8s("PodMonitor").find((m) => m.metadata.name === "velero");
    expect(pm).toMatchObject({ metadata: { namespace: "velero" }, spec: { podMetricsEndpoints: [{ port: "http-monitoring" }] } });
    const scrape = get().k8s("NetworkPolicy").find((n) => n.metadata.namespace === "velero" && n.metadata.name === "allow-monitoring-scrape");
    expect(scrape.spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8085 }]);
    const out = get().k8s("NetworkPolicy").find((n) => n.metadata.namespace === "monitoring" && n.metadata.name === "prometheus");
    expect(out.spec.egress).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "velero" } }, podSelector: {} }], ports: [{ protocol: "TCP", port: 8085 }] });
    const alerts = get().k8s("PrometheusRule").flatMap((r) => r.spec.groups).flatMap((g: any) => g.rules).map((r: any) => r.alert);
    expect(alerts).toEqual(expect.arrayContaining(["VeleroBackupFailed", "VeleroBackupStale"]));
  });

  it("passes the cluster-state policies, which fire once the schedule or the identity is gone", () => {
    const policies = allPolicies.filter((p) => p.name === "cluster-state-backup-scheduled" || p.name === "velero-workload-identity");
    expect(policies).toHaveLength(2);
    const resources = get().resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, props: r.props }));
    expect(evaluatePlan(resources, { policies }).violations).toEqual([]);
    const without = resources.filter((r) => r.type !== "kubernetes:velero.io/v1:Schedule");
    expect(evaluatePlan(without, { policies }).violations.map((v) => v.policy)).toEqual(["cluster-state-backup-scheduled"]);
    const keyed = structuredClone(resources);
    (keyed.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && (r.props as any).chart === "velero")!.props as any).values.credentials = { useSecret: true };
    expect(evaluatePlan(keyed, { policies }).violations.map((v) => v.policy)).toEqual(["velero-workload-identity"]);
  });
}
