import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { gcpLabels, type LabelContext } from "../labels";
import { RuntimeSecurity } from "../runtime-security";
import { GKE_SANDBOX_RUNTIME_CLASS, resolveGkeClusterArgs, type GkeClusterArgs, type ResolvedGkeClusterArgs } from "./gke-args";
import { gcpAccountId, GkeWorkloadIdentities } from "./gke-identities";
import { GcpNetwork, GKE_RANGES } from "./gke-network";
import { GkeNodePools } from "./gke-pools";
import { spotFirstComputeClass } from "./compute-class";
import { gkeKubeconfig } from "./kubeconfig";
import { gkeSpotFallbackScheduling, poolResourceName, poolScheduling, SPOT_FIRST_TAINT } from "./scheduling";
import { POOL_NAMES, type ClusterFacts, type PoolName, type PoolScheduling, type SpotFirstPlacement } from "./types";
import { k8sLabels } from "../labels";

export * from "./gke-identities";
export * from "./gke-network";
export * from "./gke-pools";

/** GCP's longest rotation period compliance asks of a customer-managed key: 90 days. */
export const KMS_ROTATION_PERIOD = `${90 * 86400}s`;

/**
 * GKE's cluster autoscaler gives a pod at most 10 minutes to terminate when it drains a node to remove it, and the
 * figure cannot be changed on GKE.
 */
export const GKE_AUTOSCALER_MAX_GRACE_SECONDS = 600;

/** GKE's predefined role with exactly what a node needs to log, report metrics and run GKE's agents. */
export const GKE_NODE_ROLE = "roles/container.defaultNodeServiceAccount";

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
  readonly spotFirst: SpotFirstPlacement;
  readonly autoscalerMaxGraceSeconds = GKE_AUTOSCALER_MAX_GRACE_SECONDS;
  readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;
  readonly readyResources: readonly pulumi.Resource[];
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
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

    const moved = { parent: this, prefix: name };
    this.network = new GcpNetwork(`${name}-network`, { cluster: cfg, movedFrom: moved }, o);

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

    // Secrets encryption under a key we rotate, as EKS does with its KMS key. A key ring can never be deleted, so
    // its name carries a random suffix kept in state: a destroyed and recreated stack gets a new ring instead of a
    // 409. The name is ignored after creation, so a ring created before the suffix keeps its name (and its key).
    const keyRingSuffix = new random.RandomId(`${name}-keyring-suffix`, { byteLength: 3 }, { parent: this });
    const keyRing = new gcp.kms.KeyRing(
      `${name}-keyring`,
      { name: pulumi.interpolate`${cfg.name}-${keyRingSuffix.hex}`, project, location: cfg.region },
      { ...o, ignoreChanges: ["name"] },
    );
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

    const gkePools = new GkeNodePools(
      `${name}-pools`,
      { cluster: cfg, clusterName: this.cluster.name, nodeServiceAccount: nodeSa.email, dependsOn: [pull], movedFrom: moved },
      o,
    );
    const nodePools = gkePools.pools;
    this.nodePools = nodePools;

    const identities = new GkeWorkloadIdentities(
      `${name}-identities`,
      { cluster: a, project, clusterName: cfg.name, dependsOn: [this.cluster], movedFrom: moved },
      o,
    );
    this.identities = identities.accounts;
    this.lookup = identities.lookup;

    const kubeconfig = pulumi
      .all([this.cluster.endpoint, this.cluster.masterAuth])
      .apply(([endpoint, auth]) => gkeKubeconfig(cfg.name, endpoint, auth.clusterCaCertificate ?? ""));
    const allPools = [...Object.values(nodePools), ...(gkePools.spotFallback ? [gkePools.spotFallback] : [])];
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this, dependsOn: allPools });
    this.clusterName = this.cluster.name;
    this.kubeconfig = pulumi.secret(kubeconfig);

    this.pools = Object.fromEntries(POOL_NAMES.map((p) => [p, poolScheduling("gcp", p, cfg.name)])) as Record<PoolName, PoolScheduling>;
    this.sandboxRuntimeClassName = GKE_SANDBOX_RUNTIME_CLASS;
    // A preferred spot affinity is invisible to the autoscaler; the ComputeClass ranks spot above on-demand for it.
    const spotFirst = spotFirstComputeClass(poolResourceName("gcp", cfg.name, "spot"));
    const computeClass = gkePools.spotFallback
      ? new k8s.apiextensions.CustomResource(
          `${name}-spot-first`,
          { ...spotFirst, metadata: { ...spotFirst.metadata, labels: k8sLabels(a.labels, "spot-first", "autoscaling") } },
          { parent: this, provider: this.provider },
        )
      : undefined;
    // Without a spot pool there is nothing to prefer: workloads that would fall back run on the general pool.
    this.spotFirst = computeClass
      ? { fallback: gkeSpotFallbackScheduling(), computeClass: { name: spotFirst.metadata.name, taint: SPOT_FIRST_TAINT } }
      : { fallback: this.pools.general };
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

    this.readyResources = [...allPools, ...(computeClass ? [computeClass] : []), falco.release];
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
