import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gcpLabels, type LabelContext } from "../labels";
import { RuntimeSecurity } from "../runtime-security";
import { bucketFor, identityLookup, missingBucketGrants } from "./args";
import { GKE_SANDBOX_RUNTIME_CLASS, resolveGkeClusterArgs, type GkeClusterArgs, type ResolvedGkeClusterArgs, type ResolvedGkeNodePool } from "./gke-args";
import { createGcpNetwork, GKE_RANGES, type GcpNetwork } from "./gke-network";
import { gkeKubeconfig } from "./kubeconfig";
import { cloudTaintEffect, declaredPoolLabels, poolResourceName, poolScheduling } from "./scheduling";
import { POOL_NAMES, type ClusterFacts, type PoolName, type PoolScheduling } from "./types";


/** GCP's longest rotation period compliance asks of a customer-managed key: 90 days. */
export const KMS_ROTATION_PERIOD = `${90 * 86400}s`;

/** GKE's predefined role with exactly what a node needs to log, report metrics and run GKE's agents. */
export const GKE_NODE_ROLE = "roles/container.defaultNodeServiceAccount";

/** What each workload access grants on its bucket; registry pulls are the node's, not the workload's. */
export const GKE_BUCKET_ROLES = {
  "results-bucket": "roles/storage.objectUser",
  // Backups are written, never rewritten: without delete or overwrite a compromised pod cannot erase them.
  "backups-bucket": "roles/storage.objectCreator",
} as const;

/** A GCP service account id: 6–30 characters, lowercase, starting with a letter. */
export function gcpAccountId(prefix: string, name: string): string {
  return `${prefix}-${name}`.slice(0, 30).replace(/-+$/, "");
}

export function workloadIdentityMember(project: string, namespace: string, name: string): string {
  return `serviceAccount:${project}.svc.id.goog[${namespace}/${name}]`;
}

export interface GkeClusterInputs {
  /** Cloud KMS key that encrypts Kubernetes Secrets at the application layer. */
  readonly secretsKey: pulumi.Input<string>;
  readonly network: pulumi.Input<string>;
  readonly subnetwork: pulumi.Input<string>;
  readonly nodeServiceAccount: pulumi.Input<string>;
}

export function gkeClusterArgs(cfg: ResolvedGkeClusterArgs, ctx: LabelContext, i: GkeClusterInputs): gcp.container.ClusterArgs {
  return {
    name: cfg.name,
    project: cfg.project,
    location: cfg.region,
    network: i.network,
    subnetwork: i.subnetwork,
    networkingMode: "VPC_NATIVE",
    ipAllocationPolicy: {
      clusterSecondaryRangeName: GKE_RANGES.pods,
      servicesSecondaryRangeName: GKE_RANGES.services,
    },
    // Pools are declared one by one below; the default pool only exists for the cluster's first minutes.
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    nodeConfig: {
      serviceAccount: i.nodeServiceAccount,
      oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      workloadMetadataConfig: { mode: "GKE_METADATA" },
    },
    releaseChannel: { channel: cfg.releaseChannel },
    minMasterVersion: cfg.kubernetesVersion,
    workloadIdentityConfig: { workloadPool: `${cfg.project}.svc.id.goog` },
    // Dataplane V2 (Cilium) enforces NetworkPolicy; the legacy Calico add-on must stay off with it.
    datapathProvider: "ADVANCED_DATAPATH",
    enableShieldedNodes: true,
    privateClusterConfig: {
      enablePrivateNodes: true,
      enablePrivateEndpoint: false,
      masterIpv4CidrBlock: cfg.network.masterCidr,
    },
    masterAuthorizedNetworksConfig: {
      cidrBlocks: cfg.authorizedNetworks.map((n) => ({ cidrBlock: n.cidr, displayName: n.name })),
      gcpPublicCidrsAccessEnabled: false,
    },
    masterAuth: { clientCertificateConfig: { issueClientCertificate: false } },
    databaseEncryption: { state: "ENCRYPTED", keyName: i.secretsKey },
    clusterAutoscaling: { enabled: false, autoscalingProfile: cfg.autoscalingProfile },
    resourceLabels: gcpLabels(ctx),
    deletionProtection: cfg.deletionProtection,
  };
}

export interface GkeNodePoolInputs {
  readonly cluster: pulumi.Input<string>;
  readonly nodeServiceAccount: pulumi.Input<string>;
  readonly ctx: LabelContext;
}

/** A pool's autoscaling bounds: totals across the region's zones, as the playbook counts nodes. */
function gkeAutoscaling(pool: PoolName, p: ResolvedGkeNodePool): gcp.types.input.container.NodePoolAutoscaling {
  return {
    totalMinNodeCount: p.minNodes,
    totalMaxNodeCount: p.maxNodes,
    // Spot capacity comes from whichever zone has it; on-demand pools stay spread for zone failures.
    locationPolicy: pool === "spot" ? "ANY" : "BALANCED",
  };
}

export function gkeNodePoolArgs(pool: PoolName, cfg: ResolvedGkeClusterArgs, i: GkeNodePoolInputs): gcp.container.NodePoolArgs {
  const p = cfg.nodePools[pool];
  const scheduling = poolScheduling("gcp", pool, cfg.name);
  // GKE taints sandbox pools itself; declaring that taint again is rejected.
  const taints = pool === "sandbox" ? [] : scheduling.taints;
  const sharing =
    p.gpuTimeSlicingReplicas > 1
      ? { gpuSharingConfig: { gpuSharingStrategy: "TIME_SHARING", maxSharedClientsPerGpu: p.gpuTimeSlicingReplicas } }
      : {};
  return {
    name: poolResourceName("gcp", cfg.name, pool),
    project: cfg.project,
    location: cfg.region,
    cluster: i.cluster,
    ...(p.zones.length > 0 ? { nodeLocations: [...p.zones] } : {}),
    initialNodeCount: p.minNodes > 0 ? 1 : 0,
    autoscaling: gkeAutoscaling(pool, p),
    management: { autoRepair: true, autoUpgrade: true },
    upgradeSettings: { strategy: "SURGE", maxSurge: 1, maxUnavailable: 0 },
    nodeConfig: {
      machineType: p.machineType,
      diskSizeGb: p.diskSizeGb,
      diskType: "pd-balanced",
      imageType: "COS_CONTAINERD",
      serviceAccount: i.nodeServiceAccount,
      oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
      labels: declaredPoolLabels("gcp", pool),
      taints: taints.map((t) => ({ key: t.key, value: t.value, effect: cloudTaintEffect(t.effect) })),
      resourceLabels: { ...gcpLabels(i.ctx), pool },
      metadata: { "disable-legacy-endpoints": "true" },
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      workloadMetadataConfig: { mode: "GKE_METADATA" },
      ...(pool === "spot" ? { spot: true } : {}),
      ...(pool === "gpu" && p.gpuType && p.gpuCount > 0
        ? {
            guestAccelerators: [
              { type: p.gpuType, count: p.gpuCount, gpuDriverInstallationConfig: { gpuDriverVersion: "LATEST" }, ...sharing },
            ],
          }
        : {}),
      ...(pool === "sandbox" ? { sandboxConfig: { sandboxType: "gvisor" } } : {}),
    },
  };
}

export interface ArtifactRegistryInputs {
  readonly cfg: Pick<ResolvedGkeClusterArgs, "name" | "project" | "region">;
  readonly ctx: LabelContext;
  readonly untaggedImageRetentionDays: number;
}

export function artifactRegistryArgs(a: ArtifactRegistryInputs): gcp.artifactregistry.RepositoryArgs {
  return {
    repositoryId: a.cfg.name,
    project: a.cfg.project,
    location: a.cfg.region,
    format: "DOCKER",
    description: "Processor images, deployed by digest",
    dockerConfig: { immutableTags: true },
    vulnerabilityScanningConfig: { enablementConfig: "INHERITED" },
    cleanupPolicyDryRun: false,
    cleanupPolicies: [
      {
        id: "delete-untagged",
        action: "DELETE",
        condition: { tagState: "UNTAGGED", olderThan: `${a.untaggedImageRetentionDays * 86400}s` },
      },
    ],
    labels: gcpLabels(a.ctx),
  };
}

/** GKE in a private, VPC-native network with the four pools, Artifact Registry and Workload Identity. */
export class GkeCluster extends pulumi.ComponentResource implements ClusterFacts {
  readonly cloud = "gcp" as const;
  readonly provider: k8s.Provider;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  readonly sandboxRuntimeClassName: string;
  readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;
  readonly readyResources: readonly pulumi.Resource[];
  readonly cluster: gcp.container.Cluster;
  readonly nodePools: Partial<Record<PoolName, gcp.container.NodePool>>;
  readonly registry: gcp.artifactregistry.Repository;
  /** The VPC and node subnet, for resources that must sit beside the cluster (databases, private service access). */
  readonly network: GcpNetwork;
  readonly identities: ReadonlyMap<string, gcp.serviceaccount.Account>;
  private readonly lookup: (name: string) => gcp.serviceaccount.Account;
  private readonly repositoryNames: readonly string[];

  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:GkeCluster", name, {}, opts);
    const a = resolveGkeClusterArgs(args);
    const cfg = a;
    const project = cfg.project;
    this.repositoryNames = a.imageRepositories;
    const gcpProvider = new gcp.Provider(
      `${name}-gcp`,
      { project, region: cfg.region, defaultLabels: gcpLabels(a.labels) },
      { parent: this },
    );
    const o = { parent: this, provider: gcpProvider };

    this.network = createGcpNetwork(name, cfg, project, o);

    const nodeSa = new gcp.serviceaccount.Account(
      `${name}-nodes-sa`,
      { accountId: gcpAccountId(cfg.name, "nodes"), project, displayName: `${cfg.name} GKE nodes` },
      o,
    );
    const nodeSaRole = new gcp.projects.IAMMember(
      `${name}-nodes-sa-role`,
      { project, role: GKE_NODE_ROLE, member: nodeSa.member },
      o,
    );

    this.registry = new gcp.artifactregistry.Repository(
      `${name}-registry`,
      artifactRegistryArgs({ cfg, ctx: a.labels, untaggedImageRetentionDays: a.untaggedImageRetentionDays }),
      o,
    );
    // The kubelet pulls images with the node's identity, so pull rights belong to the node account only.
    const pull = new gcp.artifactregistry.RepositoryIamMember(
      `${name}-nodes-pull`,
      {
        project,
        location: cfg.region,
        repository: this.registry.name,
        role: "roles/artifactregistry.reader",
        member: nodeSa.member,
      },
      o,
    );

    // Secrets encryption under a key we rotate, as EKS does with its KMS key.
    const keyRing = new gcp.kms.KeyRing(`${name}-keyring`, { name: cfg.name, project, location: cfg.region }, o);
    const secretsKey = new gcp.kms.CryptoKey(
      `${name}-secrets-key`,
      { name: "gke-secrets", keyRing: keyRing.id, purpose: "ENCRYPT_DECRYPT", rotationPeriod: KMS_ROTATION_PERIOD, labels: gcpLabels(a.labels) },
      { ...o, protect: cfg.deletionProtection },
    );
    const projectNumber = gcp.organizations.getProjectOutput({ projectId: project }, o).number;
    const keyGrant = new gcp.kms.CryptoKeyIAMMember(
      `${name}-secrets-key-gke`,
      {
        cryptoKeyId: secretsKey.id,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: pulumi.interpolate`serviceAccount:service-${projectNumber}@container-engine-robot.iam.gserviceaccount.com`,
      },
      o,
    );

    this.cluster = new gcp.container.Cluster(
      `${name}-gke`,
      gkeClusterArgs(cfg, a.labels, {
        secretsKey: secretsKey.id,
        network: this.network.networkId,
        subnetwork: this.network.subnetworkId,
        nodeServiceAccount: nodeSa.email,
      }),
      { ...o, dependsOn: [this.network.nat, nodeSaRole, keyGrant], ignoreChanges: ["nodeConfig", "initialNodeCount"] },
    );

    const nodePools: Partial<Record<PoolName, gcp.container.NodePool>> = {};
    for (const pool of POOL_NAMES) {
      // A pool bounded at zero nodes would never schedule anything; leaving it out keeps the plan honest.
      if (cfg.nodePools[pool].maxNodes === 0) continue;
      nodePools[pool] = new gcp.container.NodePool(
        `${name}-${pool}`,
        gkeNodePoolArgs(pool, cfg, { cluster: this.cluster.name, nodeServiceAccount: nodeSa.email, ctx: a.labels }),
        { ...o, dependsOn: [pull], ignoreChanges: ["initialNodeCount", "nodeCount"] },
      );
    }
    this.nodePools = nodePools;

    for (const warning of missingBucketGrants(a)) pulumi.log.warn(warning, this);
    const identities = new Map<string, gcp.serviceaccount.Account>();
    for (const w of a.workloads) {
      const gsa = new gcp.serviceaccount.Account(
        `${name}-wi-${w.name}`,
        { accountId: gcpAccountId("wi", w.name), project, displayName: `${w.namespace}/${w.name} (Workload Identity)` },
        o,
      );
      new gcp.serviceaccount.IAMMember(
        `${name}-wi-${w.name}-binding`,
        {
          serviceAccountId: gsa.name,
          role: "roles/iam.workloadIdentityUser",
          member: workloadIdentityMember(project, w.namespace, w.name),
        },
        // The `<project>.svc.id.goog` pool exists only once a cluster with Workload Identity does.
        { ...o, dependsOn: [this.cluster] },
      );
      for (const access of w.access) {
        const bucket = bucketFor(a, access);
        if (!bucket) continue;
        new gcp.storage.BucketIAMMember(
          `${name}-wi-${w.name}-${access}`,
          { bucket, role: GKE_BUCKET_ROLES[access], member: gsa.member },
          o,
        );
      }
      identities.set(w.name, gsa);
    }
    this.identities = identities;
    this.lookup = identityLookup("GkeCluster.serviceAccountAnnotations", identities);

    const kubeconfig = pulumi
      .all([this.cluster.endpoint, this.cluster.masterAuth])
      .apply(([endpoint, auth]) => gkeKubeconfig(cfg.name, endpoint, auth.clusterCaCertificate ?? ""));
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this, dependsOn: Object.values(nodePools) });

    this.pools = Object.fromEntries(POOL_NAMES.map((p) => [p, poolScheduling("gcp", p, cfg.name)])) as Record<PoolName, PoolScheduling>;
    this.sandboxRuntimeClassName = GKE_SANDBOX_RUNTIME_CLASS;
    this.oidcIssuer = pulumi.interpolate`https://container.googleapis.com/v1/projects/${project}/locations/${cfg.region}/clusters/${this.cluster.name}`;

    const falco = new RuntimeSecurity(
      `${name}-falco`,
      {
        labels: a.labels,
        pools: this.pools,
        alertmanagerUrl: a.alertmanagerUrl,
        minimumPriority: a.falcoMinimumPriority,
        movedFrom: { parent: this, prefix: `${name}-falco` },
      },
      { parent: this, provider: this.provider },
    );

    this.readyResources = [...Object.values(nodePools), falco.release];
    const token = gcp.organizations.getClientConfigOutput({ parent: this, provider: gcpProvider });
    this.registryAuth = pulumi.secret(
      pulumi.all([this.registry.registryUri, token.accessToken]).apply(([uri, accessToken]) => ({
        address: uri.split("/")[0],
        username: "oauth2accesstoken",
        password: accessToken,
      })),
    );

    this.registerOutputs({
      clusterName: this.cluster.name,
      oidcIssuer: this.oidcIssuer,
      registry: this.registry.registryUri,
    });
  }

  imageRepository(service: string): pulumi.Output<string> {
    if (!this.repositoryNames.includes(service)) {
      throw new Error(`GkeCluster.imageRepository: no repository for "${service}"; list it in imageRepositories`);
    }
    return pulumi.interpolate`${this.registry.registryUri}/${service}`;
  }

  serviceAccountAnnotations(name: string): pulumi.Output<Record<string, string>> {
    const gsa = this.lookup(name);
    return gsa.email.apply((email): Record<string, string> => ({ "iam.gke.io/gcp-service-account": email }));
  }
}
