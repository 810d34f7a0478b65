import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks, type RecordedResource } from "../testing/mocks";
import { CHART_KEYS_DIR, parseChartKeys, valuePaths } from "../charts/keys";
import { one, resolve, settle } from "../cluster/test-support";
import type { PoolScheduling } from "../cluster/types";
import { validateAgainstCrd } from "../ingress/crd-schema";
import { CHARTS, IMAGES, KUBERNETES_VERSION } from "../versions";
import {
  EXCLUDED_RESOURCES,
  VELERO_COMPATIBILITY,
  VELERO_CRD_DIR,
  VELERO_SERVICE_ACCOUNT,
  backupStorageLocationSpec,
  gcsPrefixCondition,
  oidcProviderArn,
  scheduleSpec,
  veleroNetworkPolicies,
  veleroProblems,
  veleroS3Policy,
  veleroValues,
} from "./velero-builders";
import type { Velero as VeleroType } from "./velero";

const pool: PoolScheduling = { name: "general", labels: { "pitchey.io/pool": "general" }, taints: [{ key: "pitchey.io/dedicated", value: "general", effect: "NoSchedule" }] };
const labels = { "app.kubernetes.io/name": "velero", "app.kubernetes.io/managed-by": "pulumi", "pitchey.io/team": "platform" };
const settings = { schedule: "0 3 * * *", ttl: "8760h" };
const GCP_KEY = "projects/pitchey-prod/locations/us-west1/keyRings/backups/cryptoKeys/backups";
const AWS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

describe("Velero chart values", () => {
  const values = veleroValues({
    provider: "gcp",
    pluginImage: IMAGES.veleroPluginGcp,
    serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "velero@p.iam.gserviceaccount.com" },
    labels,
    pool,
  }) as any;

  it("sets exactly the keys of the pinned chart's values.yaml listed in charts/velero.keys.txt", () => {
    const list = parseChartKeys(readFileSync(join(CHART_KEYS_DIR, "velero.keys.txt"), "utf8"));
    const used = valuePaths(values, list.freeForm);
    expect(used.filter((p) => !list.keys.includes(p))).toEqual([]);
    expect(list.keys.filter((p) => !used.includes(p))).toEqual([]);
    expect(CHARTS.velero).toMatchObject({ chart: "velero", version: list.version });
  });

  it("deploys the server alone: no node agent, no volume snapshots, no chart-made location or schedule, no credentials Secret", () => {
    expect(values).toMatchObject({ deployNodeAgent: false, snapshotsEnabled: false, backupsEnabled: true, credentials: { useSecret: false }, schedules: {} });
    expect(values.configuration).toMatchObject({ backupStorageLocation: [], volumeSnapshotLocation: [], defaultBackupStorageLocation: "default" });
    expect(values.serviceAccount.server).toMatchObject({ create: true, name: VELERO_SERVICE_ACCOUNT, annotations: { "iam.gke.io/gcp-service-account": "velero@p.iam.gserviceaccount.com" } });
  });

  it("loads the provider's plugin, pinned to the 1.14 line Velero 1.18 pairs with, from a restricted init container", () => {
    const [init] = values.initContainers;
    expect(init).toMatchObject({ name: "velero-plugin-for-gcp", image: "docker.io/velero/velero-plugin-for-gcp:v1.14.2", volumeMounts: [{ mountPath: "/target", name: "plugins" }] });
    expect(IMAGES.veleroPluginAws).toBe("docker.io/velero/velero-plugin-for-aws:v1.14.2");
    expect(init.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  it("adds the cost labels without repeating the ones the chart's templates write themselves", () => {
    expect(values.labels).toEqual({ "pitchey.io/team": "platform" });
    expect(values.podLabels).toEqual({ "pitchey.io/team": "platform" });
    expect(values.serviceAccount.server.labels).toEqual({ "pitchey.io/team": "platform" });
  });

  it("runs as a numeric non-root user (the image's `cnb` cannot be checked by the kubelet) under PSA restricted", () => {
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(values.containerSecurityContext).toMatchObject({ runAsUser: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(values.resources.limits).toMatchObject({ cpu: "1", memory: "512Mi" });
    expect(values.nodeSelector).toEqual(pool.labels);
    expect(values.tolerations).toEqual([{ key: "pitchey.io/dedicated", operator: "Equal", value: "general", effect: "NoSchedule" }]);
  });
});

describe("Velero's versions", () => {
  const minor = (v: string) => v.replace(/^v/, "").split(".").slice(0, 2).join(".");
  const compat = VELERO_COMPATIBILITY[minor(CHARTS.velero.appVersion!)];

  it("runs a Velero release tested on the clusters' Kubernetes minor", () => {
    expect(compat, `no compatibility entry for Velero ${CHARTS.velero.appVersion}`).toBeDefined();
    expect(compat.kubernetes).toContain(KUBERNETES_VERSION);
  });

  it("loads the object-store plugins of the line that Velero minor pairs with", () => {
    for (const image of [IMAGES.veleroPluginGcp, IMAGES.veleroPluginAws]) expect(minor(image.split(":").pop()!), image).toBe(compat.plugins);
  });
});

describe("BackupStorageLocation and Schedule", () => {
  const gcs = backupStorageLocationSpec({ provider: "gcp", bucket: "pitchey-prod-backups", region: "us-west1", kmsKeyId: GCP_KEY, prefix: "configs" }, "pitchey-containers-velero@pitchey-prod.iam.gserviceaccount.com");
  const s3 = backupStorageLocationSpec({ provider: "aws", bucket: "pitchey-dr-backups", region: "eu-west-1", kmsKeyId: AWS_KEY, prefix: "configs" });
  const cr = (kind: string, spec: unknown) => ({ apiVersion: "velero.io/v1", kind, metadata: { name: "x", namespace: "velero" }, spec });

  it("writes under configs/ of the store's bucket, encrypted under its customer key on either cloud", () => {
    expect(gcs).toMatchObject({ provider: "velero.io/gcp", default: true, objectStorage: { bucket: "pitchey-prod-backups", prefix: "configs" }, config: { kmsKeyName: GCP_KEY } });
    expect(s3).toMatchObject({ provider: "velero.io/aws", default: true, objectStorage: { bucket: "pitchey-dr-backups", prefix: "configs" }, config: { region: "eu-west-1", kmsKeyId: AWS_KEY } });
    expect(JSON.stringify([gcs, s3])).not.toContain("credential");
  });

  it("names the GCP service account the plugin signs download URLs as (required under Workload Identity)", () => {
    expect((gcs.config as Record<string, string>).serviceAccount).toBe("pitchey-containers-velero@pitchey-prod.iam.gserviceaccount.com");
  });

  it("backs up every namespace and the cluster-scoped resources, Secrets included, manifests only, events left out", () => {
    const s = scheduleSpec(settings, labels) as any;
    expect(s).toMatchObject({ schedule: "0 3 * * *", useOwnerReferencesInBackup: false, paused: false });
    expect(s.template).toMatchObject({ ttl: "8760h", storageLocation: "default", includedNamespaces: ["*"], includeClusterResources: true, snapshotVolumes: false, defaultVolumesToFsBackup: false });
    expect(s.template.excludedResources).toEqual([...EXCLUDED_RESOURCES]);
    expect(JSON.stringify(s)).not.toMatch(/secrets/i);
    expect(s.template.includedResources).toBeUndefined();
  });

  it("satisfies Velero's own CRD schemas (strictly: an unknown field fails)", () => {
    expect(validateAgainstCrd(cr("BackupStorageLocation", gcs), VELERO_CRD_DIR)).toEqual([]);
    expect(validateAgainstCrd(cr("BackupStorageLocation", s3), VELERO_CRD_DIR)).toEqual([]);
    expect(validateAgainstCrd(cr("Schedule", scheduleSpec(settings, labels)), VELERO_CRD_DIR)).toEqual([]);
    const bad = { ...(scheduleSpec(settings, labels) as any), template: { ...(scheduleSpec(settings, labels) as any).template, includeSecrets: true } };
    expect(validateAgainstCrd(cr("Schedule", bad), VELERO_CRD_DIR)!.join()).toMatch(/includeSecrets/);
    expect(validateAgainstCrd(cr("BackupStorageLocation", { ...gcs, objectStorage: { prefix: "configs" } }), VELERO_CRD_DIR)!.join()).toMatch(/bucket/);
  });

  it("refuses a TTL that is not a positive Go duration and a prefix with slashes, naming the field", () => {
    expect(veleroProblems(settings, "configs")).toEqual([]);
    expect(veleroProblems({ ...settings, ttl: "30d" }, "configs").map((p) => p.propertyPath)).toEqual(["schedule.ttl"]);
    expect(veleroProblems({ ...settings, ttl: "0h" }, "configs").map((p) => p.propertyPath)).toEqual(["schedule.ttl"]);
    expect(veleroProblems({ ...settings, ttl: "1h30m" }, "configs")).toEqual([]);
    expect(veleroProblems(settings, "/configs/").map((p) => p.propertyPath)).toEqual(["store.prefix"]);
  });
});

describe("Velero's cloud permissions", () => {
  it("S3: lists only under configs/, touches objects only under configs/, uses only the store's key", () => {
    const doc = JSON.parse(veleroS3Policy("aws", "pitchey-dr-backups", "configs", AWS_KEY));
    const byAction = (a: string) => doc.Statement.filter((s: any) => s.Action.includes(a));
    expect(byAction("s3:ListBucket")).toEqual([
      { Sid: "ListPrefix", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::pitchey-dr-backups"], Condition: { StringLike: { "s3:prefix": ["configs/*"] } } },
    ]);
    for (const a of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]) expect(byAction(a)[0].Resource, a).toEqual(["arn:aws:s3:::pitchey-dr-backups/configs/*"]);
    expect(byAction("kms:GenerateDataKey")[0].Resource).toEqual([AWS_KEY]);
    expect(byAction("kms:Decrypt")[0].Resource).toEqual([AWS_KEY]);
    const all = doc.Statement.flatMap((s: any) => [...s.Action, ...s.Resource]);
    expect(all.filter((x: string) => x.includes("*") && !x.endsWith("/configs/*"))).toEqual([]);
    expect(all.some((x: string) => /^ec2:|^s3:\*|^kms:\*|PutBucket|DeleteBucket|ObjectLock|BypassGovernance/.test(x))).toBe(false);
  });

  it("GCS: the object role holds only on the bucket itself (listing) and objects under configs/", () => {
    const c = gcsPrefixCondition("pitchey-prod-backups", "configs");
    expect(c.expression).toBe('resource.name == "projects/_/buckets/pitchey-prod-backups" || resource.name.startsWith("projects/_/buckets/pitchey-prod-backups/objects/configs/")');
  });

  it("IRSA trusts the cluster's IAM OIDC provider, named as IAM names it", () => {
    expect(oidcProviderArn("aws", "123456789012", "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")).toBe("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC");
  });

  it("network: default deny; Prometheus in to 8085; DNS, HTTPS and (GKE) the metadata server out", () => {
    const gke = veleroNetworkPolicies({ monitoringNamespace: "monitoring", prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" }, provider: "gcp" }) as any;
    const eks = veleroNetworkPolicies({ monitoringNamespace: "monitoring", prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" }, provider: "aws" }) as any;
    expect(gke["default-deny"]).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    expect(gke["allow-monitoring-scrape"].ingress[0].ports).toEqual([{ protocol: "TCP", port: 8085 }]);
    expect(gke["allow-metadata-egress"].egress.map((e: any) => e.to[0].ipBlock.cidr)).toEqual(["169.254.169.254/32", "169.254.169.252/32"]);
    expect(eks["allow-metadata-egress"]).toBeUndefined();
  });
});

describe("Velero component under the mock runtime", () => {
  const mocks = new RecordingMocks();
  let gcpVelero: VeleroType;
  let awsVelero: VeleroType;
  const props = (type: string, name: string) => one(mocks.resources, type, name).props as Record<string, any>;
  const under = (prefix: string) => mocks.resources.filter((r: RecordedResource) => r.name.startsWith(prefix));

  beforeAll(async () => {
    await installMocks(mocks, "pitchey-containers", "velero");
    const { Velero } = await import("./velero");
    const common = { labels: { environment: "production", costCenter: "platform", team: "platform" }, schedule: settings, pool, monitoringNamespace: "monitoring", prometheusPodLabels: { "app.kubernetes.io/name": "prometheus" } };
    gcpVelero = new Velero("prod-velero", {
      ...common,
      store: { provider: "gcp", bucket: "pitchey-prod-backups", region: "us-west1", kmsKeyId: GCP_KEY },
      identity: { cloud: "gcp", project: "pitchey-prod", clusterName: "pitchey-containers" },
    });
    awsVelero = new Velero("dr-velero", {
      ...common,
      store: { provider: "aws", bucket: "pitchey-dr-backups", region: "eu-west-1", kmsKeyId: AWS_KEY },
      identity: { cloud: "aws", oidcIssuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF" },
    });
    await resolve(gcpVelero.cloudIdentity);
    await resolve(awsVelero.cloudIdentity);
    await settle();
  }, 60_000);

  it("installs the pinned chart atomically in its own PSA-restricted namespace", () => {
    const release = props("kubernetes:helm.sh/v3:Release", "prod-velero-release");
    expect(release).toMatchObject({ name: "velero", chart: "velero", version: CHARTS.velero.version, repositoryOpts: { repo: "https://vmware-tanzu.github.io/helm-charts" }, namespace: "velero", atomic: true });
    expect(props("kubernetes:core/v1:Namespace", "prod-velero-namespace").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(gcpVelero.scheduleName).toBe("cluster-state");
  });

  it("GCP: its own service account, bound by Workload Identity to velero/velero only, with the object role on the bucket under configs/ and signBlob on itself", async () => {
    const gsa = props("gcp:serviceaccount/account:Account", "prod-velero-gsa");
    expect(gsa).toMatchObject({ accountId: "pitchey-containers-velero", project: "pitchey-prod" });
    const email = "pitchey-containers-velero@pitchey-prod.iam.gserviceaccount.com";
    expect(await resolve(gcpVelero.cloudIdentity)).toBe(email);
    const bindings = under("prod-velero-gsa-").filter((r) => r.type === "gcp:serviceaccount/iAMMember:IAMMember").map((r) => r.props);
    expect(bindings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ role: "roles/iam.workloadIdentityUser", member: "serviceAccount:pitchey-prod.svc.id.goog[velero/velero]" }),
        expect.objectContaining({ role: "roles/iam.serviceAccountTokenCreator", member: `serviceAccount:${email}`, serviceAccountId: `projects/pitchey-prod/serviceAccounts/${email}` }),
      ]),
    );
    expect(bindings).toHaveLength(2);
    const bucket = props("gcp:storage/bucketIAMMember:BucketIAMMember", "prod-velero-gsa-bucket");
    expect(bucket).toMatchObject({ bucket: "pitchey-prod-backups", role: "roles/storage.objectUser", member: `serviceAccount:${email}` });
    expect(bucket.condition.expression).toContain("/objects/configs/");
    // Nothing project-wide: no project IAM, no KMS grant (GCS's own service agent encrypts under the bucket's key).
    expect(mocks.resources.some((r) => /projectIamMember|cryptoKeyIAM/i.test(r.type))).toBe(false);
    const values = props("kubernetes:helm.sh/v3:Release", "prod-velero-release").values;
    expect(values.serviceAccount.server.annotations).toEqual({ "iam.gke.io/gcp-service-account": email });
    expect(props("kubernetes:velero.io/v1:BackupStorageLocation", "prod-velero-location").spec.config).toEqual({ kmsKeyName: GCP_KEY, serviceAccount: email });
  });

  it("AWS: an IRSA role only velero/velero can assume, with the prefix-scoped S3 and key policy", () => {
    const role = props("aws:iam/role:Role", "dr-velero-role");
    const trust = JSON.parse(role.assumeRolePolicy);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0].Principal.Federated).toBe("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF");
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:sub": "system:serviceaccount:velero:velero",
      "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF:aud": "sts.amazonaws.com",
    });
    const policy = JSON.parse(props("aws:iam/rolePolicy:RolePolicy", "dr-velero-role-policy").policy);
    expect(policy).toEqual(JSON.parse(veleroS3Policy("aws", "pitchey-dr-backups", "configs", AWS_KEY)));
    expect(props("kubernetes:helm.sh/v3:Release", "dr-velero-release").values.serviceAccount.server.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/dr-velero-role" });
    expect(props("kubernetes:helm.sh/v3:Release", "dr-velero-release").values.initContainers[0].image).toBe(IMAGES.veleroPluginAws);
    expect(props("kubernetes:velero.io/v1:BackupStorageLocation", "dr-velero-location").spec.config).toEqual({ region: "eu-west-1", kmsKeyId: AWS_KEY });
  });

  it("holds no Secret at all: the identity is the ServiceAccount's", () => {
    expect(under("prod-velero").concat(under("dr-velero")).filter((r) => r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  });

  it("creates the location and the schedule after the chart (its CRDs), each valid against them", () => {
    const schedule = one(mocks.resources, "kubernetes:velero.io/v1:Schedule", "prod-velero-schedule");
    const release = one(mocks.resources, "kubernetes:helm.sh/v3:Release", "prod-velero-release");
    expect(mocks.dependencies.get(schedule.urn)).toEqual(expect.arrayContaining([release.urn]));
    for (const r of mocks.resources.filter((x) => x.type.startsWith("kubernetes:velero.io/"))) {
      expect(validateAgainstCrd(r.props as any, VELERO_CRD_DIR), r.name).toEqual([]);
    }
  });
});
