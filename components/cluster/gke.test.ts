import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, RecordingMocks } from "../testing/mocks";
import { placement } from "../processor/builders";
import { FALCO_RULE_NAMES } from "../runtime-security";
import type { GkeCluster as Gke } from "./gke";
import { admits, PROCESSOR_NAMES, PROCESSORS, nodeOf, type NodeView, ofType, one, resolve, settle, tolerates, gkeTestArgs } from "./test-support";

const mocks = new RecordingMocks();
let gke: Gke;
const POOL = "gcp:container/nodePool:NodePool";

beforeAll(async () => {
  await installMocks(mocks, "pitchey-containers", "prod");
  const { GkeCluster } = await import("./gke");
  gke = new GkeCluster("prod", gkeTestArgs());
  await resolve(gke.oidcIssuer);
  await settle();
}, 60_000);

const pool = (name: string) => one(mocks.resources, POOL, `prod-pools-${name}`).props as Record<string, any>;

describe("GKE cluster (prod)", () => {
  it("creates only GCP and Kubernetes resources (and the key ring's random suffix)", () => {
    const clouds = new Set(mocks.resources.filter((r) => r.custom).map((r) => r.type.split(":")[0]));
    expect([...clouds].sort()).toEqual(["gcp", "kubernetes", "pulumi", "random"]);
    expect(mocks.resources.some((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toBe(false);
    expect(gke.cloud).toBe("gcp");
  });

  it("is private, VPC-native, Workload Identity and Dataplane V2, with the configured authorized networks", () => {
    const c = one(mocks.resources, "gcp:container/cluster:Cluster", "prod-gke").props as Record<string, any>;
    expect(c.location).toBe("us-west1");
    expect(c.name).toBe("pitchey-containers");
    expect(c.privateClusterConfig).toMatchObject({ enablePrivateNodes: true, masterIpv4CidrBlock: "172.16.0.32/28" });
    expect(c.workloadIdentityConfig).toEqual({ workloadPool: "pitchey-prod.svc.id.goog" });
    expect(c.datapathProvider).toBe("ADVANCED_DATAPATH");
    expect(c.networkPolicy).toBeUndefined();
    expect(c.enableShieldedNodes).toBe(true);
    expect(c.removeDefaultNodePool).toBe(true);
    expect(c.releaseChannel).toEqual({ channel: "REGULAR" });
    expect(c.minMasterVersion).toBe("1.35");
    expect(c.ipAllocationPolicy).toEqual({ clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" });
    expect(c.masterAuthorizedNetworksConfig.cidrBlocks.map((b: any) => b.cidrBlock)).toEqual(["203.0.113.0/24", "198.51.100.0/26"]);
    expect(c.masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled).toBe(false);
    expect(c.clusterAutoscaling).toMatchObject({ autoscalingProfile: "BALANCED" });
    expect(c.resourceLabels).toMatchObject({ service: "pitchey-containers", environment: "production", cost_center: "platform-processing" });
  });

  it("encrypts Secrets with a rotating Cloud KMS key the GKE service agent may use", () => {
    const c = one(mocks.resources, "gcp:container/cluster:Cluster", "prod-gke").props as Record<string, any>;
    expect(c.databaseEncryption).toEqual({ state: "ENCRYPTED", keyName: "gcp:kms/cryptoKey:CryptoKey::prod-secrets-key-id" });
    const key = one(mocks.resources, "gcp:kms/cryptoKey:CryptoKey", "prod-secrets-key").props;
    expect(key.rotationPeriod).toBe("7776000s");
    const grant = one(mocks.resources, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "prod-secrets-key-gke").props;
    expect(grant).toEqual({
      cryptoKeyId: "gcp:kms/cryptoKey:CryptoKey::prod-secrets-key-id",
      role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
      member: "serviceAccount:service-402318765094@container-engine-robot.iam.gserviceaccount.com",
    });
  });

  it("has a subnet with pod and service ranges, private Google access and Cloud NAT, and opens only the control plane's webhook ports", () => {
    const s = one(mocks.resources, "gcp:compute/subnetwork:Subnetwork", "prod-network-nodes").props as Record<string, any>;
    expect(s.ipCidrRange).toBe("10.10.0.0/20");
    expect(s.secondaryIpRanges).toEqual([
      { rangeName: "pods", ipCidrRange: "10.20.0.0/14" },
      { rangeName: "services", ipCidrRange: "10.30.0.0/20" },
    ]);
    expect(s.privateIpGoogleAccess).toBe(true);
    expect(one(mocks.resources, "gcp:compute/routerNat:RouterNat", "prod-network-nat").props.sourceSubnetworkIpRangesToNat).toBe(
      "ALL_SUBNETWORKS_ALL_IP_RANGES",
    );
    const rules = ofType(mocks.resources, "gcp:compute/firewall:Firewall").map((r) => r.props as Record<string, any>);
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      direction: "INGRESS",
      sourceRanges: ["172.16.0.32/28"],
      destinationRanges: ["10.20.0.0/14"],
      allows: [{ protocol: "tcp", ports: ["6443", "9443"] }],
    });
  });

  it("declares the four pools (and spot's on-demand fallback) with the playbook's machine types and bounds", () => {
    expect(ofType(mocks.resources, POOL).map((r) => r.props.name).sort()).toEqual(["general", "gpu", "sandbox", "spot", "spot-fallback"]);
    expect(pool("general").nodeConfig.machineType).toBe("n2-standard-4");
    expect(pool("general").autoscaling).toMatchObject({ totalMinNodeCount: 3, totalMaxNodeCount: 20 });
    expect(pool("spot").nodeConfig.machineType).toBe("n2-standard-4");
    expect(pool("spot").autoscaling).toMatchObject({ totalMinNodeCount: 0, totalMaxNodeCount: 10, locationPolicy: "ANY" });
    expect(pool("spot").nodeConfig.spot).toBe(true);
    expect(pool("spot").nodeConfig.taints).toEqual([
      { key: "cloud.google.com/gke-spot", value: "true", effect: "NO_SCHEDULE" },
      { key: "cloud.google.com/compute-class", value: "pitchey-spot-first", effect: "NO_SCHEDULE" },
    ]);
    expect(pool("general").nodeConfig.spot).toBeUndefined();
  });

  it("backs the spot pool with an on-demand pool of its shape, used only through the spot-first ComputeClass", () => {
    const fallback = pool("spot-fallback");
    expect(fallback.nodeConfig.spot).toBeUndefined();
    expect(fallback.nodeConfig.machineType).toBe(pool("spot").nodeConfig.machineType);
    expect(fallback.autoscaling).toEqual({ totalMinNodeCount: 0, totalMaxNodeCount: 10, locationPolicy: "BALANCED" });
    expect(fallback.nodeConfig.labels).toEqual({ "pitchey.io/pool": "spot-fallback", "cloud.google.com/compute-class": "pitchey-spot-first" });
    expect(fallback.nodeConfig.taints).toEqual([{ key: "cloud.google.com/compute-class", value: "pitchey-spot-first", effect: "NO_SCHEDULE" }]);
    expect(fallback.nodeConfig.shieldedInstanceConfig).toEqual(pool("spot").nodeConfig.shieldedInstanceConfig);
    const cls = one(mocks.resources, "kubernetes:cloud.google.com/v1:ComputeClass", "prod-spot-first").props as Record<string, any>;
    expect(cls.metadata.name).toBe("pitchey-spot-first");
    expect(cls.spec.priorities).toEqual([{ nodepools: ["spot"] }, { nodepools: ["spot-fallback"] }]);
    expect(gke.spotFirst.computeClass).toEqual({ name: "pitchey-spot-first", taint: { key: "cloud.google.com/compute-class", value: "pitchey-spot-first", effect: "NoSchedule" } });
    expect(gke.autoscalerMaxGraceSeconds).toBe(600);
  });

  it("gives the GPU pool an L4 with driver auto-install and the GPU taint", () => {
    const nc = pool("gpu").nodeConfig;
    expect(nc.machineType).toBe("g2-standard-8");
    expect(nc.guestAccelerators).toEqual([{ type: "nvidia-l4", count: 1, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" } }]);
    expect(nc.taints).toEqual([{ key: "nvidia.com/gpu", value: "present", effect: "NO_SCHEDULE" }]);
    expect(pool("gpu").autoscaling).toMatchObject({ totalMinNodeCount: 0, totalMaxNodeCount: 5 });
  });

  it("runs the sandbox pool under GKE Sandbox and exposes GKE's RuntimeClass", () => {
    expect(pool("sandbox").nodeConfig.sandboxConfig).toEqual({ sandboxType: "gvisor" });
    expect(pool("sandbox").nodeConfig.imageType).toBe("COS_CONTAINERD");
    expect(gke.sandboxRuntimeClassName).toBe("gvisor");
    // GKE's own RuntimeClass is used, not a second one.
    expect(ofType(mocks.resources, "kubernetes:node.k8s.io/v1:RuntimeClass")).toHaveLength(0);
  });

  it("hardens every pool: shielded secure boot, metadata server, auto-repair/upgrade, dedicated node account", () => {
    const nodeSa = one(mocks.resources, "gcp:serviceaccount/account:Account", "prod-nodes-sa").props.accountId;
    for (const r of ofType(mocks.resources, POOL)) {
      const p = r.props as Record<string, any>;
      expect(p.nodeConfig.shieldedInstanceConfig).toEqual({ enableSecureBoot: true, enableIntegrityMonitoring: true });
      expect(p.nodeConfig.workloadMetadataConfig).toEqual({ mode: "GKE_METADATA" });
      expect(p.management).toEqual({ autoRepair: true, autoUpgrade: true });
      expect(p.nodeConfig.serviceAccount).toBe(`${nodeSa}@pitchey-prod.iam.gserviceaccount.com`);
      expect(p.nodeConfig.labels["pitchey.io/pool"]).toBe(p.name);
    }
  });

  it("binds each processor's ServiceAccount to its own Google account with bucket roles only", async () => {
    for (const name of PROCESSOR_NAMES) {
      const binding = one(mocks.resources, "gcp:serviceaccount/iAMMember:IAMMember", `prod-identities-wi-${name}-binding`).props;
      expect(binding.role).toBe("roles/iam.workloadIdentityUser");
      expect(binding.member).toBe(`serviceAccount:pitchey-prod.svc.id.goog[processors/${name}]`);
      const gsa = one(mocks.resources, "gcp:serviceaccount/account:Account", `prod-identities-wi-${name}`).props;
      expect(binding.serviceAccountId).toContain(gsa.accountId);
      expect(await resolve(gke.serviceAccountAnnotations(name))).toEqual({
        "iam.gke.io/gcp-service-account": `${gsa.accountId}@pitchey-prod.iam.gserviceaccount.com`,
      });
      const results = one(mocks.resources, "gcp:storage/bucketIAMMember:BucketIAMMember", `prod-identities-wi-${name}-results-bucket`).props;
      expect(results).toMatchObject({ bucket: "pitchey-prod-results", role: "roles/storage.objectUser" });
    }
    const backups = ofType(mocks.resources, "gcp:storage/bucketIAMMember:BucketIAMMember").filter((r) => r.name.endsWith("backups-bucket"));
    expect(backups.map((r) => [r.name, r.props.role])).toEqual([["prod-identities-wi-document-processor-backups-bucket", "roles/storage.objectCreator"]]);
    expect(() => gke.serviceAccountAnnotations("falco")).toThrow(/no identity for "falco"/);
    // No keys: Workload Identity needs none, and none is minted.
    expect(ofType(mocks.resources, "gcp:serviceaccount/key:Key")).toHaveLength(0);
  });

  it("grants image pulls to the node account only, on an immutable, cleaned-up registry", async () => {
    const repo = one(mocks.resources, "gcp:artifactregistry/repository:Repository", "prod-registry").props as Record<string, any>;
    expect(repo.format).toBe("DOCKER");
    expect(repo.dockerConfig).toEqual({ immutableTags: true });
    expect(repo.cleanupPolicies).toEqual([
      { id: "delete-untagged", action: "DELETE", condition: { tagState: "UNTAGGED", olderThan: "604800s" } },
    ]);
    const pulls = ofType(mocks.resources, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember");
    expect(pulls.map((r) => r.name)).toEqual(["prod-nodes-pull"]);
    expect(await resolve(gke.imageRepository("video-processor"))).toBe(
      "us-west1-docker.pkg.dev/pitchey-prod/pitchey-containers/video-processor",
    );
    expect(() => gke.imageRepository("not-a-processor")).toThrow(/no repository/);
    const auth = await resolve(gke.registryAuth);
    expect(auth).toEqual({ address: "us-west1-docker.pkg.dev", username: "oauth2accesstoken", password: "ya29.mock-access-token" });
  });

  it("builds the Kubernetes provider from a kubeconfig with the gcloud auth plugin and no credential", async () => {
    const p = one(mocks.resources, "pulumi:providers:kubernetes", "prod-k8s").props;
    const kc = JSON.parse(String(p.kubeconfig));
    expect(kc.clusters[0].cluster.server).toBe("https://34.82.10.20");
    expect(kc.users[0].user.exec.command).toBe("gke-gcloud-auth-plugin");
    expect(kc.users[0].user.token).toBeUndefined();
    expect(await resolve(gke.oidcIssuer)).toBe(
      "https://container.googleapis.com/v1/projects/pitchey-prod/locations/us-west1/clusters/pitchey-containers",
    );
  });

  it("installs Falco with the four rules, forwarding to Alertmanager, on every pool", () => {
    const falco = one(mocks.resources, "kubernetes:helm.sh/v3:Release", "prod-falco-release").props as Record<string, any>;
    expect(falco.chart).toBe("falco");
    expect(falco.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(falco.values.falcosidekick.config.alertmanager.hostport).toBe("http://alertmanager-operated.monitoring.svc:9093");
    const rules = falco.values.customRules["pitchey-rules.yaml"] as string;
    for (const rule of FALCO_RULE_NAMES) expect(rules).toContain(`- rule: ${rule}`);
    const keys = falco.values.tolerations.map((t: any) => t.key).sort();
    expect(keys).toEqual(["cloud.google.com/compute-class", "cloud.google.com/gke-spot", "nvidia.com/gpu", "sandbox.gke.io/runtime"]);
    // No NVIDIA chart on GKE: GKE runs its own device plugin.
    expect(ofType(mocks.resources, "kubernetes:helm.sh/v3:Release").map((r) => r.props.chart)).toEqual(["falco"]);
  });

  it("publishes scheduling facts that match what the pools declare", () => {
    const facts = { ...gke.pools, "spot-fallback": gke.spotFirst.fallback };
    for (const r of ofType(mocks.resources, POOL)) {
      const name = r.props.name as keyof typeof facts;
      const node = nodeOf(r);
      expect(node.labels).toMatchObject(facts[name].labels);
      const byKey = (ts: readonly { key: string }[]) => [...ts].sort((a, b) => a.key.localeCompare(b.key));
      expect(byKey(node.taints)).toEqual(byKey(facts[name].taints));
    }
    expect(gke.pools.spot.taints).toContainEqual({ key: "cloud.google.com/gke-spot", value: "true", effect: "NoSchedule" });
    expect(gke.pools.spot.drainSeconds).toBe(15);
  });

  it("places every processor on its pool's nodes, tolerating exactly that pool's taints", () => {
    const nodes: Record<string, NodeView> = Object.fromEntries(ofType(mocks.resources, POOL).map((r) => [String(r.props.name), nodeOf(r)]));
    for (const name of PROCESSOR_NAMES) {
      const pc = { placement: PROCESSORS[name] };
      const spec = placement({
        pool: gke.pools[pc.placement.pool],
        fallbackPool: pc.placement.fallbackToOnDemand ? gke.spotFirst.fallback : undefined,
        computeClass: pc.placement.fallbackToOnDemand ? gke.spotFirst.computeClass : undefined,
        config: pc,
        runtimeClassName: pc.placement.pool === "sandbox" ? gke.sandboxRuntimeClassName : undefined,
      }) as any;
      const target = nodes[pc.placement.pool];
      expect(admits(spec, target.labels), `${name} selects ${pc.placement.pool}`).toBe(true);
      for (const t of target.taints) expect(tolerates(spec.tolerations, t), `${name} tolerates ${t.key}`).toBe(true);
      for (const [other, node] of Object.entries(nodes)) {
        if (other === pc.placement.pool || (other === "spot-fallback" && pc.placement.fallbackToOnDemand)) continue;
        expect(admits(spec, node.labels) && node.taints.every((t) => tolerates(spec.tolerations, t)), `${name} stays off ${other}`).toBe(false);
      }
    }
  });

  it("keeps, through aliases, the URNs its parts' resources had when the cluster declared them itself", () => {
    const parts = new Set(
      mocks.resources.filter((r) => /^pitchey:(cluster:(GcpNetwork|GkeNodePools|GkeWorkloadIdentities)|runtime-security:Falco)$/.test(r.type)).map((r) => r.urn),
    );
    // The spot pool's on-demand fallback is new with the pools component: it has no former URN.
    const moved = mocks.resources.filter((r) => r.parent && parts.has(r.parent) && !r.name.endsWith("-spot-fallback"));
    expect(moved.length).toBeGreaterThan(20);
    const former = /^urn:pulumi:prod::pitchey-containers::pitchey:cluster:GkeCluster\$[^$]+::prod-/;
    for (const r of moved) expect((r.aliases ?? []).filter((u) => former.test(u)), r.name).toHaveLength(1);
  });

  it("names every Workload Identity account after the cluster, and the key ring with a random suffix kept in state", () => {
    const ids = ofType(mocks.resources, "gcp:serviceaccount/account:Account").map((r) => String(r.props.accountId));
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
      expect(id.startsWith("pitchey-containers")).toBe(true);
    }
    const suffix = one(mocks.resources, "random:index/randomId:RandomId", "prod-keyring-suffix");
    expect(suffix.props.byteLength).toBe(3);
    expect(one(mocks.resources, "gcp:kms/keyRing:KeyRing", "prod-keyring").props.name).toMatch(/^pitchey-containers-[0-9a-f]+$/);
  });
});
