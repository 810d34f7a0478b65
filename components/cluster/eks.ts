import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awsTags } from "../labels";
import { RuntimeSecurity } from "../runtime-security";
import { createClusterAdmins } from "./eks-access";
import { EksAddons, eksNodeAddonArgs } from "./eks-addons";
import { resolveEksClusterArgs, type EksClusterArgs, type ResolvedEksClusterArgs } from "./eks-args";
import { EksWorkloadIdentities, irsaRole, servicePrincipalTrust } from "./eks-iam";
import { AwsNetwork } from "./eks-network";
import { EksNodeGroups } from "./eks-nodes";
import { eksKubeconfig } from "./kubeconfig";
import { poolScheduling } from "./scheduling";
import { POOL_NAMES, type ClusterFacts, type PoolName, type PoolScheduling, type SpotFirstPlacement } from "./types";

export * from "./eks-access";
export * from "./eks-addons";
export * from "./eks-iam";
export * from "./eks-network";
export * from "./eks-nodes";
export * from "./gvisor";

export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

export interface EksClusterInputs {
  readonly tags: Record<string, string>;
  readonly roleArn: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly kmsKeyArn: pulumi.Input<string>;
}

export function eksClusterArgs(cfg: ResolvedEksClusterArgs, i: EksClusterInputs): aws.eks.ClusterArgs {
  return {
    name: cfg.name,
    version: cfg.kubernetesVersion,
    roleArn: i.roleArn,
    vpcConfig: {
      subnetIds: i.subnetIds,
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: cfg.authorizedNetworks.map((n) => n.cidr),
    },
    encryptionConfig: { provider: { keyArn: i.kmsKeyArn }, resources: ["secrets"] },
    enabledClusterLogTypes: [...EKS_LOG_TYPES],
    // Access entries only, no aws-auth ConfigMap: who may reach the cluster is declared here and audited in IAM.
    // Moving towards API is one-way (API cannot go back to API_AND_CONFIG_MAP), and the creator's bootstrap admin
    // entry can only be chosen at creation (changing it replaces the cluster), so both stay as created.
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    kubernetesNetworkConfig: { serviceIpv4Cidr: cfg.network.servicesCidr },
    // The VPC CNI, kube-proxy and CoreDNS come as managed add-ons below, versioned by EKS.
    bootstrapSelfManagedAddons: false,
    deletionProtection: cfg.deletionProtection,
    // Standard support only: a version past its end is upgraded by EKS rather than billed as extended support.
    upgradePolicy: { supportType: "STANDARD" },
    tags: i.tags,
  };
}

/** Lifecycle policy: untagged images expire after the retention; tagged ones stay. */
export function ecrLifecyclePolicy(untaggedDays: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${untaggedDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedDays },
        action: { type: "expire" },
      },
    ],
  });
}

const ADDONS_BEFORE_NODES = [
  ["vpc-cni", "vpcCni"],
  ["kube-proxy", "kubeProxy"],
] as const;

/** EKS with private nodes across three zones, four managed node groups, ECR and IRSA identities. */
export class EksCluster extends pulumi.ComponentResource implements ClusterFacts {
  readonly cloud = "aws" as const;
  readonly provider: k8s.Provider;
  readonly awsProvider: aws.Provider;
  readonly oidcIssuer: pulumi.Output<string>;
  readonly pools: Readonly<Record<PoolName, PoolScheduling>>;
  readonly sandboxRuntimeClassName: string;
  readonly spotFirst: SpotFirstPlacement;
  readonly autoscalerMaxGraceSeconds: number;
  readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;
  readonly readyResources: readonly pulumi.Resource[];
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  /** EKS serves no metrics.k8s.io by itself: the metrics-server add-on does. */
  readonly metricsApi: readonly pulumi.Resource[];
  /** EKS provisions no EBS volume by itself: the EBS CSI driver add-on does. */
  readonly volumeProvisioner: readonly pulumi.Resource[];
  readonly cluster: aws.eks.Cluster;
  readonly nodeGroups: Partial<Record<PoolName, aws.eks.NodeGroup>>;
  readonly repositories: ReadonlyMap<string, aws.ecr.Repository>;
  /** The customer keys for Kubernetes secrets and for the image repositories. */
  readonly kmsKeys: { readonly secrets: aws.kms.Key; readonly registry: aws.kms.Key };
  /** The VPC and subnets, for resources that must sit beside the cluster (databases, endpoints). */
  readonly network: AwsNetwork;
  readonly identities: ReadonlyMap<string, aws.iam.Role>;
  private readonly lookup: (name: string) => aws.iam.Role;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pitchey:cluster:EksCluster", name, {}, opts);
    const a = resolveEksClusterArgs(args);
    const cfg = a;
    this.awsProvider = new aws.Provider(
      `${name}-aws`,
      { region: cfg.region as aws.Region, defaultTags: { tags: awsTags(a.labels) } },
      { parent: this },
    );
    const o = { parent: this, provider: this.awsProvider };
    // defaultTags covers every taggable resource; tags are also set explicitly so each resource's own
    // inputs show its owner (and survive a resource being moved to another provider).
    const tags = awsTags(a.labels);
    const tagged = (extra: Record<string, string> = {}) => ({ tags: { ...tags, ...extra } });
    const partition = aws.getPartitionOutput({}, o).partition;

    const moved = { parent: this, prefix: name };
    this.network = new AwsNetwork(
      `${name}-network`,
      { clusterName: cfg.name, region: cfg.region, network: cfg.network, tags, movedFrom: moved },
      o,
    );
    const privateIds = this.network.privateSubnetIds;


    // Keys: one for Kubernetes secrets, one for images; both rotate yearly.
    const secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      { description: `${cfg.name} Kubernetes secrets envelope encryption`, enableKeyRotation: true, deletionWindowInDays: 30, ...tagged() },
      // Like GKE's secrets key: a protected stack's key outlives `pulumi destroy` (scheduled deletion loses every secret).
      { ...o, protect: cfg.deletionProtection },
    );
    new aws.kms.Alias(`${name}-secrets-key`, { name: `alias/${cfg.name}-secrets`, targetKeyId: secretsKey.keyId }, o);
    const registryKey = new aws.kms.Key(
      `${name}-registry-key`,
      { description: `${cfg.name} image repositories`, enableKeyRotation: true, deletionWindowInDays: 30, ...tagged() },
      { ...o, protect: cfg.deletionProtection },
    );
    new aws.kms.Alias(`${name}-registry-key`, { name: `alias/${cfg.name}-registry`, targetKeyId: registryKey.keyId }, o);

    this.kmsKeys = { secrets: secretsKey, registry: registryKey };

    // EKS writes to this group; creating it first sets the retention instead of "never expire".
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane-logs`,
      { name: `/aws/eks/${cfg.name}/cluster`, retentionInDays: cfg.controlPlaneLogRetentionDays, ...tagged() },
      o,
    );

    const clusterRole = new aws.iam.Role(`${name}-cluster-role`, { assumeRolePolicy: servicePrincipalTrust("eks.amazonaws.com"), ...tagged() }, o);
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster-role`,
      { role: clusterRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKSClusterPolicy` },
      o,
    );

    this.cluster = new aws.eks.Cluster(
      `${name}-eks`,
      eksClusterArgs(cfg, { tags, roleArn: clusterRole.arn, subnetIds: privateIds, kmsKeyArn: secretsKey.arn }),
      { ...o, dependsOn: [clusterPolicy, logGroup] },
    );
    this.oidcIssuer = this.cluster.identities.apply((ids) => ids?.[0]?.oidcs?.[0]?.issuer ?? "");
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: this.oidcIssuer, clientIdLists: ["sts.amazonaws.com"], ...tagged() },
      o,
    );
    const trust = { providerArn: oidc.arn, issuer: this.oidcIssuer };
    const cniRole = irsaRole(`${name}-vpc-cni-role`, trust, { namespace: "kube-system", name: "aws-node" }, tags, o);
    new aws.iam.RolePolicyAttachment(
      `${name}-vpc-cni-role`,
      { role: cniRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonEKS_CNI_Policy` },
      o,
    );
    // Pinned for the cluster's minor, so each control-plane upgrade moves them with it (an unpinned add-on stays
    // at the version EKS chose when it was created).
    const earlyAddons = ADDONS_BEFORE_NODES.map(
      ([addon, key]) =>
        new aws.eks.Addon(
          `${name}-${addon}`,
          {
            ...eksNodeAddonArgs(key, cfg.kubernetesVersion, this.cluster.name, tags, key === "vpcCni" ? cniRole.arn : undefined),
            // The CNI's network policy agent enforces NetworkPolicy, as Dataplane V2 does on GKE.
            ...(key === "vpcCni" ? { configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }) } : {}),
          },
          o,
        ),
    );

    const nodes = new EksNodeGroups(
      `${name}-nodes`,
      { cluster: cfg, clusterName: this.cluster.name, subnetIds: privateIds, partition, dependsOn: earlyAddons, movedFrom: moved },
      o,
    );
    const nodeGroups = nodes.groups;
    this.nodeGroups = nodeGroups;
    const groups = Object.values(nodeGroups);
    const coredns = new aws.eks.Addon(`${name}-coredns`, eksNodeAddonArgs("coreDns", cfg.kubernetesVersion, this.cluster.name, tags), {
      ...o,
      dependsOn: groups,
    });

    // Registry: one repository per service, immutable tags, scanned on push, encrypted with our key.
    const repositories = new Map<string, aws.ecr.Repository>();
    for (const svc of a.imageRepositories) {
      const repo = new aws.ecr.Repository(
        `${name}-ecr-${svc}`,
        {
          name: `${cfg.name}/${svc}`,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: registryKey.arn }],
          // Deliberately tied to deletion protection: a protected stack's destroy stops at a repository holding
          // images; a stack being torn down (deletionProtection off, applied by `pulumi up` first) deletes them,
          // since every image is rebuilt from source by the next deploy.
          forceDelete: !cfg.deletionProtection,
          ...tagged({ Service: svc }),
        },
        o,
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-ecr-${svc}-lifecycle`,
        { repository: repo.name, policy: ecrLifecyclePolicy(a.untaggedImageRetentionDays) },
        o,
      );
      repositories.set(svc, repo);
    }
    this.repositories = repositories;
    const token = aws.ecr.getAuthorizationTokenOutput({}, o);
    this.registryAuth = pulumi.secret(
      token.apply((t) => ({ address: t.proxyEndpoint.replace(/^https:\/\//, ""), username: t.userName, password: t.password })),
    );

    // Identities: one role per ServiceAccount, trusted only from that ServiceAccount.
    const identities = new EksWorkloadIdentities(`${name}-identities`, { cluster: a, trust, partition, movedFrom: moved }, o);
    this.identities = identities.roles;
    this.lookup = identities.lookup;

    const kubeconfig = pulumi
      .all([this.cluster.endpoint, this.cluster.certificateAuthority, this.cluster.name])
      .apply(([endpoint, ca, clusterName]) => eksKubeconfig(cfg.name, endpoint, ca.data ?? "", clusterName, cfg.region));
    this.clusterName = this.cluster.name;
    this.kubeconfig = pulumi.secret(kubeconfig);
    // The deploy role's entry must exist before the provider acts as it.
    const admins = createClusterAdmins(name, this.cluster.name, partition, a.clusterAdmins, tags, o);
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent: this, dependsOn: [...groups, coredns, ...admins] });
    const k = { parent: this, provider: this.provider };

    this.pools = Object.fromEntries(POOL_NAMES.map((p) => [p, poolScheduling("aws", p, cfg.name)])) as Record<PoolName, PoolScheduling>;
    this.sandboxRuntimeClassName = cfg.sandboxRuntimeClass;
    // The autoscaler's priority expander ranks the spot group above the general one (see clusterAutoscalerValues).
    this.spotFirst = { fallback: this.pools.general };
    this.autoscalerMaxGraceSeconds = cfg.autoscaling.maxGracefulTerminationSeconds;

    const addons: pulumi.Resource[] = [];
    const inCluster = new EksAddons(
      `${name}-addons`,
      {
        cluster: cfg,
        clusterName: this.cluster.name,
        nodes: groups,
        partition,
        pools: this.pools,
        poolsWithNodes: Object.keys(nodeGroups) as PoolName[],
        trust,
        movedFrom: moved,
      },
      { parent: this, providers: [this.awsProvider, this.provider] },
    );
    addons.push(...inCluster.ready);
    this.metricsApi = [inCluster.metricsServer];
    this.volumeProvisioner = [inCluster.ebsCsiDriver];

    const falco = new RuntimeSecurity(
      `${name}-falco`,
      {
        labels: a.labels,
        pools: this.pools,
        alertmanagerUrl: a.alertmanagerUrl,
        minimumPriority: a.falcoMinimumPriority,
        movedFrom: { parent: this, prefix: `${name}-falco` },
      },
      k,
    );
    addons.push(falco.release);
    this.readyResources = [...groups, coredns, ...addons];

    this.registerOutputs({
      clusterName: this.cluster.name,
      oidcIssuer: this.oidcIssuer,
      oidcProviderArn: oidc.arn,
    });
  }

  imageRepository(service: string): pulumi.Output<string> {
    const repo = this.repositories.get(service);
    if (!repo) throw new Error(`EksCluster.imageRepository: no repository for "${service}"; list it in imageRepositories`);
    return repo.repositoryUrl;
  }

  serviceAccountAnnotations(name: string): pulumi.Output<Record<string, string>> {
    const role = this.lookup(name);
    return role.arn.apply((arn): Record<string, string> => ({ "eks.amazonaws.com/role-arn": arn }));
  }
}
